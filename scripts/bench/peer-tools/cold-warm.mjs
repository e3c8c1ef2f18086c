// How much of a fresh process's consume is JIT warm-up: writes two topics of (b)-like events (128 B metadata text,
// 1 KiB data), then, in one fresh process each round, reads topic A (cold: nothing compiled yet) and then topic B
// (its own new driver and mapping, so page faults are paid again, but the code is warm). The difference is what
// optimizing our read path costs a process that reads once, as the peer benchmark's phases do.
//   node scripts/bench/peer-tools/cold-warm.mjs [events=100000] [rounds=5]      (after npm run build)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const LIB = pathToFileURL(path.join(ROOT, 'dist/lib/index.js')).href;
const child = process.argv[2] === '--child';
// The child is told the event count (argv[3]); the parent takes [events] [rounds].
const [events = 100000, rounds = 5] = (child ? process.argv.slice(3, 4) : process.argv.slice(2)).map(Number);

async function read(root) {
  const { Driver } = await import(LIB);
  const driver = await Driver.create('files', { root_path: root });
  const topic = await driver.openTopic('bench');
  const consumer = await topic.consumer(`c${process.pid}`, { until: 'end', batchSize: 128 });
  let n = 0;
  let bytes = 0;
  const t0 = performance.now();
  await consumer.processBatches((b) => {
    for (let i = 0; i < b.length; i++) bytes += b.dataBytes(i).length + b.metadataText(i).length;
    n += b.length;
    b.acknowledge();
  });
  const ms = performance.now() - t0;
  await consumer.close();
  await driver.close();
  if (n !== events || bytes === 0) throw new Error(`read ${n} events`);
  return ms;
}

if (child) {
  const [, , , , a, b] = process.argv;
  const cold = await read(a);
  const warm = await read(b);
  process.stdout.write(JSON.stringify({ cold, warm }) + '\n');
} else {
  const { Driver } = await import(LIB);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cold-warm-'));
  const data = Buffer.alloc(1024, 7);
  for (const name of ['a', 'b']) {
    const driver = await Driver.create('files', { root_path: path.join(dir, name) });
    await driver.createTopic('bench');
    const producer = (await driver.openTopic('bench')).producer({ batchSize: 128 });
    for (let i = 0; i < events; i++) producer.push(`{"i":${i},"energy":${i % 100},"pad":"${'x'.repeat(90)}"}`, data);
    await producer.flush();
    await producer.close();
    await driver.close();
  }
  const rows = [];
  for (let r = 0; r < rounds; r++) {
    const out = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', String(events), path.join(dir, 'a'), path.join(dir, 'b')], {
      encoding: 'utf8',
    });
    if (out.status !== 0) throw new Error(out.stderr);
    rows.push(JSON.parse(out.stdout));
  }
  fs.rmSync(dir, { recursive: true, force: true });
  const median = (xs) => xs.sort((x, y) => x - y)[xs.length >> 1];
  const cold = median(rows.map((r) => r.cold));
  const warm = median(rows.map((r) => r.warm));
  console.log(`${events} events, median of ${rounds} fresh processes: cold ${cold.toFixed(0)} ms, warm ${warm.toFixed(0)} ms (warm-up ${(cold - warm).toFixed(0)} ms, ${((100 * (cold - warm)) / cold).toFixed(0)} % of the cold read)`);
}
