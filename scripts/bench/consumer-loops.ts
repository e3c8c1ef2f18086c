// The consumer's loops side by side: process(), for await and processBatches() over the same 200,000 buffered events
// (128-byte metadata read as metadataText, no data, an acknowledgement every 128 events or per batch), on 1, 8 and
// 64 partitions; each read in a fresh process, alternating, medians of events/s.
//   node dist/scripts/bench/consumer-loops.js [rounds=3] [partitions=1,8,64]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Driver } from '../../lib/index.js';
import { READ_MODES, timedRead, type ReadMode } from './consumer-read.js';

const EVENTS = 200_000;

async function produce(root: string, partitions: number): Promise<void> {
  const driver = await Driver.create('files', { root_path: root });
  await driver.createTopic('t', { options: { num_partitions: partitions } });
  const producer = (await driver.openTopic('t')).producer({ batchSize: 128 });
  const pad = 'x'.repeat(100);
  for (let i = 0; i < EVENTS; i++) producer.push(`{"i":${i},"pad":"${pad}"}`, undefined, i % partitions);
  await producer.flush();
  await producer.close();
  await driver.close();
}

async function read(root: string, mode: ReadMode): Promise<number> {
  const { events, ms } = await timedRead(root, mode);
  if (events !== EVENTS) throw new Error(`read ${events} of ${EVENTS} events`);
  return events / (ms / 1000);
}

const [role, root, mode] = process.argv.slice(2);
if (role === 'read') {
  console.log(`RESULT ${Math.round(await read(root!, mode as ReadMode))}`);
} else {
  const rounds = Number(process.argv[2] ?? 3);
  const counts = (process.argv[3] ?? '1,8,64').split(',').map(Number);
  const self = fileURLToPath(import.meta.url);
  const median = (xs: number[]): number => xs.slice().sort((a, b) => a - b)[xs.length >> 1]!;
  console.log('| partitions | process() | for await | processBatches() |\n|---:|---:|---:|---:|');
  for (const partitions of counts) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'consumer-loops-'));
    try {
      await produce(dir, partitions);
      const got: Record<ReadMode, number[]> = { process: [], iterate: [], batches: [] };
      for (let r = 0; r < rounds; r++) {
        for (const m of READ_MODES) {
          const out = spawnSync(process.execPath, [self, 'read', dir, m], { encoding: 'utf8' });
          const line = out.stdout.split('\n').find((l) => l.startsWith('RESULT '));
          if (!line) throw new Error(`${m}: ${out.stdout}${out.stderr}`);
          got[m].push(Number(line.slice(7)));
        }
      }
      console.log(`| ${partitions} | ${READ_MODES.map((m) => Math.round(median(got[m])).toLocaleString('en-US')).join(' | ')} |`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}
