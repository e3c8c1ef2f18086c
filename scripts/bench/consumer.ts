// diaspora consumer benchmark, with the reference's options (-n -p -i -s), where data interest (-i) and
// selectivity (-s) are really applied through the data selector. Prints a raw fs.readSync baseline too.
import { Command } from 'commander';
import { openBenchTopic } from './bench-driver.js';
import { fraction, nonNegativeInt } from '../lib/parse-numbers.js';
import { consume, eventsPerSec, fmt, memcpyGBps, type ConsumeMode } from './workloads.js';


const program = new Command('diaspora-consumer-benchmark')
  .description('Measures consumer throughput on an existing topic')
  .option('-d, --driver <name>', 'driver', 'files')
  .option('-c, --driver-config <file>', 'driver config JSON file')
  .option('-r, --root <dir>', 'root_path of the files driver (overrides the config)')
  .option('-t, --topic <name>', 'topic', 'benchmark')
  .option('-n, --num-events <n>', 'events to consume', nonNegativeInt, 1000)
  .option('-p, --num-threads <n>', 'processors in flight on the main thread (process concurrency)', nonNegativeInt, 0)
  .option('-i, --data-interest <f>', 'fraction of events whose data is fetched', fraction, 1)
  .option('-s, --data-selectivity <f>', 'fraction of each fetched data (a prefix)', fraction, 1)
  .option('--mode <mode>', 'process | iterator | pull', 'process')
  .option('--ack', 'acknowledge every event (durable named consumer)')
  .option('--allocator', 'gather data into allocated buffers instead of zero-copy slices');

program.parse();
const o = program.opts();
if (!['process', 'iterator', 'pull'].includes(o.mode)) {
  console.error('error: --mode must be process, iterator or pull');
  process.exit(2);
}
const { driver, topic } = await openBenchTopic({ driver: o.driver, config: o.driverConfig, root: o.root, topic: o.topic, partitions: 1 }, false);
const stats = await topic.stats();
const available = stats.partitions.reduce((a, p) => a + p.events, 0);
if (available < o.numEvents) {
  console.error(`error: topic "${o.topic}" holds ${available} events, fewer than -n ${o.numEvents}`);
  process.exit(2);
}
const m = await consume(topic, {
  events: o.numEvents,
  mode: o.mode as ConsumeMode,
  dataInterest: o.dataInterest,
  dataSelectivity: o.dataSelectivity,
  acknowledge: o.ack === true,
  allocator: o.allocator === true,
  threads: o.numThreads,
});
console.log('--- Benchmark Results ---');
console.log(`Total time: ${m.seconds.toFixed(4)} s`);
console.log(`Total events: ${m.events}`);
console.log(`Throughput: ${fmt(eventsPerSec(m))} events/s`);
console.log(`Data delivered: ${fmt(m.dataBytes / 1e9 / m.seconds, 2)} GB/s (${fmt(m.dataBytes)} bytes)`);
console.log(`memcpy baseline now: ${fmt(memcpyGBps(), 2)} GB/s`);
await driver.close();
