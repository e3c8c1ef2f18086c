// How much of a fresh process's consume is JIT warm-up: writes two topics of (b)-like events (128 B metadata text,
// 1 KiB data), then, in one fresh process each round, reads topic A (cold: nothing compiled yet) and then topic B
// (its own new driver and mapping, so page faults are paid again, but the code is warm). The difference is what
// optimizing the read path costs a process that reads once, as the peer benchmark's phases do.
//   node dist/scripts/bench/cold-warm.js [events=100000] [rounds=5]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Driver } from '../../lib/index.js';
import { timedRead } from './consumer-read.js';

async function write(root: string, events: number): Promise<void> {
  const driver = await Driver.create('files', { root_path: root });
  await driver.createTopic('t');
  const producer = (await driver.openTopic('t')).producer({ batchSize: 128 });
  const data = Buffer.alloc(1024, 7);
  for (let i = 0; i < events; i++) producer.push(`{"i":${i},"energy":${i % 100},"pad":"${'x'.repeat(90)}"}`, data);
  await producer.flush();
  await producer.close();
  await driver.close();
}

const median = (xs: number[]): number => xs.slice().sort((a, b) => a - b)[xs.length >> 1]!;

if (process.argv[2] === '--child') {
  // Child: read A, then B, in this one process.
  const [, , , a, b] = process.argv;
  const cold = await timedRead(a!, 'batches', true);
  const warm = await timedRead(b!, 'batches', true);
  process.stdout.write(`${JSON.stringify({ cold: cold.ms, warm: warm.ms, events: [cold.events, warm.events] })}\n`);
} else {
  const events = Number(process.argv[2] ?? 100_000);
  const rounds = Number(process.argv[3] ?? 5);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cold-warm-'));
  try {
    for (const name of ['a', 'b']) await write(path.join(dir, name), events);
    const rows: Array<{ cold: number; warm: number; events: number[] }> = [];
    for (let r = 0; r < rounds; r++) {
      const out = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', path.join(dir, 'a'), path.join(dir, 'b')], { encoding: 'utf8' });
      if (out.status !== 0) throw new Error(out.stderr);
      const row = JSON.parse(out.stdout) as { cold: number; warm: number; events: number[] };
      if (row.events.some((n) => n !== events)) throw new Error(`read ${row.events.join(' and ')} of ${events} events`);
      rows.push(row);
    }
    const cold = median(rows.map((r) => r.cold));
    const warm = median(rows.map((r) => r.warm));
    console.log(`${events} events, median of ${rounds} fresh processes: cold ${cold.toFixed(0)} ms, warm ${warm.toFixed(0)} ms (warm-up ${(cold - warm).toFixed(0)} ms, ${((100 * (cold - warm)) / cold).toFixed(0)} % of the cold read)`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
