// Thread-pool benchmark: a CPU-bound processor (a fixed amount of SHA-256 hashing per event, thread-pool-work.ts)
// run by Consumer.process on pools of 0 (inline), 1, 2 and os.availableParallelism() threads, each over the same
// fresh files topic (real files in a temp folder) with a fresh consumer name, in one run. Starting the threads is
// timed apart from the throughput. Second table: what a producer would have to pay to hand metadata
// to a worker (structured clone) against validating and serializing it inline.
// Run: npm run build --silent && node dist/scripts/bench/thread-pool.js [-n events] [-r rounds] [-P partitions]
import { Command } from 'commander';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Driver, makeThreadPool, type JsonValue } from '../../lib/index.js';
import { nonNegativeInt } from '../lib/parse-numbers.js';

const o = new Command('diaspora-thread-pool-benchmark')
  .option('-n, --num-events <n>', 'events in the topic', nonNegativeInt, 20000)
  .option('-r, --rounds <n>', 'SHA-256 rounds per event (the CPU work)', nonNegativeInt, 40)
  .option('-P, --partitions <n>', 'partitions (ordered processing runs partitions in parallel)', nonNegativeInt, 4)
  .option('-s, --data-size <bytes>', 'data bytes per event', nonNegativeInt, 1024)
  .parse()
  .opts();

const work = { module: new URL('./thread-pool-work.js', import.meta.url), export: 'hashEvent' };
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'diaspora-thread-bench-'));
try {
  const driver = await Driver.create('files', { root_path: root });
  await driver.createTopic('cpu', { options: { num_partitions: o.partitions } });
  const topic = await driver.openTopic('cpu');
  const producer = topic.producer();
  const data = Buffer.alloc(o.dataSize, 7);
  for (let i = 0; i < o.numEvents; i++) producer.push({ i, rounds: o.rounds }, data, i % o.partitions);
  await producer.flush();
  await producer.close();

  const cores = os.availableParallelism();
  const sizes = [...new Set([0, 1, 2, cores])];
  console.log(`${o.numEvents} events of ${o.dataSize} B, ${o.partitions} partitions, ${o.rounds} SHA-256 rounds per event, ${cores} cores`);
  // Each pool first processes WARM_UP events (starting its threads, which import the library and open the topic:
  // a one-time cost, shown apart), then the rest of the topic is timed on the same consumer (the threads stay up).
  const WARM_UP = Math.min(1024, Math.floor(o.numEvents / 4));
  console.log('| pool threads | start-up + first ' + WARM_UP + ' events (s) | timed events | seconds | events/s | vs inline |');
  console.log('|---:|---:|---:|---:|---:|---:|');
  let inline = 0;
  for (const n of sizes) {
    const consumer = await topic.consumer(`bench-${n}`, { until: 'end' });
    const pool = makeThreadPool(n);
    const w0 = performance.now();
    const warm = await consumer.process(work, { threadPool: pool, maxEvents: WARM_UP });
    const warmS = (performance.now() - w0) / 1000;
    const t0 = performance.now();
    const count = await consumer.process(work, { threadPool: pool });
    const s = (performance.now() - t0) / 1000;
    await consumer.close(); // writes the acknowledgements; ends the threads
    if (warm + count !== o.numEvents) throw new Error(`pool ${n}: processed ${warm + count} of ${o.numEvents}`);
    const rate = count / s;
    if (n === 0) inline = rate;
    console.log(`| ${n} | ${warmS.toFixed(2)} | ${count} | ${s.toFixed(2)} | ${Math.round(rate)} | ${(rate / inline).toFixed(2)}x |`);
  }

  // Producers: moving validation + serialization to a worker means cloning each metadata object to it first.
  const metas: JsonValue[] = Array.from({ length: 20000 }, (_, i) => ({ i, energy: i % 97, detector: 'calorimeter', hits: [i, i + 1, i + 2], ok: true }));
  const serializer = topic.serializer;
  const validator = topic.validator;
  const time = (fn: () => void): number => {
    fn(); // warm-up
    const t0 = performance.now();
    fn();
    return ((performance.now() - t0) * 1e6) / metas.length;
  };
  const inlineNs = time(() => {
    for (const m of metas) {
      validator.validate(m);
      serializer.serialize(m);
    }
  });
  const cloneNs = time(() => void structuredClone(metas));
  console.log('\n| producer step, per event | ns |');
  console.log('|---|---:|');
  console.log(`| validate + serialize inline (default validator and serializer) | ${inlineNs.toFixed(0)} |`);
  console.log(`| structured clone of the metadata alone (what posting it to a worker costs) | ${cloneNs.toFixed(0)} |`);
  await driver.close();
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
