// diaspora producer benchmark, with the reference's options (-n -m -s -b -p -f). Prints the reference's result
// block plus a raw fs.writeSync baseline of the same bytes measured in the same run.
import { Command } from 'commander';
import { BatchSize } from '../../lib/index.js';
import { openBenchTopic } from './bench-driver.js';
import { nonNegativeInt } from '../lib/parse-numbers.js';
import { eventsPerSec, fmt, mbPerSec, produce, rawBaseline } from './workloads.js';


const program = new Command('diaspora-producer-benchmark')
  .description('Measures producer throughput')
  .option('-d, --driver <name>', 'driver', 'files')
  .option('-c, --driver-config <file>', 'driver config JSON file')
  .option('-r, --root <dir>', 'root_path of the files driver (overrides the config)')
  .option('-t, --topic <name>', 'topic (created if missing)', 'benchmark')
  .option('-n, --num-events <n>', 'events', nonNegativeInt, 1000)
  .option('-m, --metadata-size <bytes>', 'metadata size (compact JSON bytes, >= 8)', nonNegativeInt, 128)
  .option('-s, --data-size <bytes>', 'data size', nonNegativeInt, 0)
  .option('-b, --batch-size <n|adaptive>', 'batch size', 'adaptive')
  .option('-p, --num-threads <n>', 'thread pool size', nonNegativeInt, 0)
  .option('-f, --flush-interval <n>', 'flush every n events', nonNegativeInt, 1_000_000_000)
  .option('--partitions <n>', 'partitions when creating the topic', nonNegativeInt, 1)
  .option('--no-baseline', 'skip the raw fs.writeSync baseline');

program.parse();
const o = program.opts();
if (o.metadataSize < 8) {
  console.error('error: --metadata-size must be at least 8 (the smallest JSON object used)');
  process.exit(2);
}
const batchSize = o.batchSize === 'adaptive' ? BatchSize.Adaptive : nonNegativeInt(o.batchSize);
const { driver, topic } = await openBenchTopic({ driver: o.driver, config: o.driverConfig, root: o.root, topic: o.topic, partitions: o.partitions }, true);
console.log('--- Benchmark Options ---');
console.log(JSON.stringify({ driver: o.driver, topic: o.topic, events: o.numEvents, metadataSize: o.metadataSize, dataSize: o.dataSize, batchSize, threads: o.numThreads, flushInterval: o.flushInterval }));
const m = await produce(topic, {
  events: o.numEvents,
  metadataSize: o.metadataSize,
  dataSize: o.dataSize,
  batchSize,
  flushInterval: Math.max(1, o.flushInterval),
  threads: o.numThreads,
});
console.log('--- Benchmark Results ---');
console.log(`Total time: ${m.seconds.toFixed(4)} s`);
console.log(`Total events: ${m.events}`);
console.log(`Throughput: ${fmt(eventsPerSec(m))} events/s`);
console.log(`Bandwidth: ${fmt(mbPerSec(m), 1)} MB/s`);
if (o.baseline) {
  const raw = rawBaseline(o.numEvents, o.metadataSize, o.dataSize).write;
  console.log(`Raw baseline (fs.writeSync, batches of 128): ${fmt(eventsPerSec(raw))} events/s, ${fmt(mbPerSec(raw), 1)} MB/s; engine/raw = ${(eventsPerSec(m) / eventsPerSec(raw) * 100).toFixed(0)}%`);
}
await driver.close();
