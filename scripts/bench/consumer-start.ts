// Time to first event: a named consumer opened in a fresh process on a long partition, measured from
// `topic.consumer()` to the first event's metadata text (and the process' RSS then). What a user restarting a
// pipeline stage waits for; it must not grow with the partition (the index is read a window at a time, see
// docs/on-disk-format.md).
//   node dist/scripts/bench/consumer-start.js [--events N] [--runs R] [--dir D]
// Writes N events (default 2,000,000; 128-byte metadata, no data) into D (default: a new temporary folder, removed
// at the end) once, then runs R (default 5) fresh processes, each with a new consumer name; prints each run and the
// median.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Driver } from '../../lib/index.js';

const TOPIC = 'start';

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at >= 0 && at + 1 < process.argv.length ? process.argv[at + 1]! : fallback;
}

async function fill(dir: string, events: number): Promise<void> {
  const driver = await Driver.create('files', { root_path: dir });
  await driver.createTopic(TOPIC, { options: { num_partitions: 1 } });
  const topic = await driver.openTopic(TOPIC);
  const producer = topic.producer({ batchSize: 128 });
  const pad = 'x'.repeat(40);
  let last;
  for (let i = 0; i < events; i++) {
    last = producer.push(`{"i":${i},"energy":${i % 100},"topic":"bench","partition":0,"kind":"reading","source":"sensor-${i % 97}","unit":"kWh","pad":"${pad}"}`);
    if ((i + 1) % 128 === 0) await last;
  }
  await producer.flush();
  await last;
  await producer.close();
  await driver.close();
}

/** One measurement, in this (fresh) process: prints a JSON line. */
async function measure(dir: string): Promise<void> {
  const driver = await Driver.create('files', { root_path: dir });
  const topic = await driver.openTopic(TOPIC);
  const t0 = performance.now();
  const consumer = await topic.consumer(`start-${process.pid}`, { batchSize: 128 });
  const first = await consumer.pull();
  const text = first?.metadataText ?? '';
  const ms = performance.now() - t0;
  if (!text.startsWith('{"i":0,')) throw new Error(`first event is not event 0: ${text.slice(0, 40)}`);
  const rssMiB = process.memoryUsage().rss / 1048576;
  await consumer.close();
  await driver.close();
  console.log(JSON.stringify({ ms, rssMiB }));
}

async function main(): Promise<void> {
  if (process.argv[2] === '--measure') return measure(process.argv[3]!);
  const events = Number(option('--events', '2000000'));
  const runs = Number(option('--runs', '5'));
  const given = option('--dir', '');
  const dir = given || fs.mkdtempSync(path.join(os.tmpdir(), 'consumer-start-'));
  try {
    if (!fs.existsSync(path.join(dir, TOPIC))) await fill(dir, events);
    const results: { ms: number; rssMiB: number }[] = [];
    for (let r = 0; r < runs; r++) {
      const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--measure', dir], { encoding: 'utf8' });
      if (child.status !== 0) throw new Error(`measurement failed: ${child.stderr}`);
      const res = JSON.parse(child.stdout.trim().split('\n').pop()!) as { ms: number; rssMiB: number };
      results.push(res);
      console.log(`run ${r + 1}: consumer() + first event ${res.ms.toFixed(1)} ms, RSS ${res.rssMiB.toFixed(0)} MiB`);
    }
    const median = (xs: number[]): number => xs.slice().sort((a, b) => a - b)[xs.length >> 1]!;
    console.log(`${events} events: median ${median(results.map((r) => r.ms)).toFixed(1)} ms, RSS ${median(results.map((r) => r.rssMiB)).toFixed(0)} MiB`);
  } finally {
    if (!given) fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
