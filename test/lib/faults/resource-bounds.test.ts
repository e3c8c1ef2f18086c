// Resources stay bounded: many open/close cycles of driver, topic, producer and named consumer, and many segment
// rolls (a tiny segment_bytes), leave no descriptors (/proc/self/fd), no mappings of the topic's files
// (/proc/self/maps) and no unbounded RSS growth behind. Counts are compared before/after with generous margins.
// Cycles: DIASPORA_OPEN_CYCLES (default 5000, as the issue asks: about 20 s on an idle 2-core machine).
import test from 'ava';
import fs from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Driver } from '../../../lib/index.js';
import { payload } from '../../storage/helpers.js';
import { tempRoot } from './torn-tail.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const CYCLES = Number(process.env.DIASPORA_OPEN_CYCLES ?? 5000);

function fdCount(): number {
  return fs.readdirSync('/proc/self/fd').length;
}
function mapsOf(dir: string): number {
  return fs.readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => l.includes(dir)).length;
}
/** Lets finalizers of dropped mappings run: mappings are released by the GC (see storage/segment-reader.ts). */
async function settle(): Promise<void> {
  // Buffer finalizers run after the collection, on later turns of the event loop.
  for (let i = 0; i < 10; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 10));
  }
}
const rssMb = (): number => process.memoryUsage().rss / 2 ** 20;

test.serial(`${CYCLES} open/close cycles of driver, topic, producer and named consumer: fds, mappings and RSS bounded`, async (t) => {
  const root = tempRoot(t);
  const setup = await Driver.create('files', { root_path: root });
  await setup.createTopic('cycles', { options: { num_partitions: 2 } });
  await setup.close();
  const cycle = async (i: number): Promise<void> => {
    const d = await Driver.create('files', { root_path: root });
    const topic = await d.openTopic('cycles');
    const producer = topic.producer();
    producer.push({ i }, payload(0, i, 512), i % 2);
    await producer.flush();
    const consumer = await topic.consumer('cycler', { targets: [i % 2] });
    const e = await consumer.pull().wait();
    if (!e || (e.metadata as { i: number }).i !== i || !e.data.toBuffer().equals(payload(0, i, 512))) throw new Error(`cycle ${i}: wrong event`);
    await e.acknowledge().wait();
    await consumer.close();
    await producer.close();
    await topic.close();
    await d.close();
  };
  for (let i = 0; i < 20; i++) await cycle(i); // warm-up: module state, JIT, lazily created files
  await settle();
  const fds0 = fdCount();
  const rss0 = rssMb();
  for (let i = 20; i < CYCLES; i++) await cycle(i);
  await settle();
  const fds1 = fdCount();
  const maps1 = mapsOf(root);
  const rss1 = rssMb();
  t.log(`fds ${fds0} -> ${fds1}, mappings of the topic left: ${maps1}, RSS ${rss0.toFixed(0)} -> ${rss1.toFixed(0)} MiB`);
  t.true(fds1 <= fds0 + 4, `descriptors leaked: ${fds0} -> ${fds1}`);
  t.true(maps1 <= 12, `${maps1} mappings of the topic's files left after closing everything`);
  t.true(rss1 - rss0 < 150, `RSS grew by ${(rss1 - rss0).toFixed(0)} MiB`);
});

test.serial('thousands of segment rolls: descriptors stay flat while writing and reading, mappings released on close', async (t) => {
  const root = tempRoot(t);
  const d = await Driver.create('files', { root_path: root, segment_bytes: 4096 });
  await d.createTopic('rolls', { options: { num_partitions: 1 } });
  const fds0 = fdCount();
  const topic = await d.openTopic('rolls');
  const producer = topic.producer();
  const total = 4000; // ~1.3 KiB each: 3 per 4 KiB segment, over 1300 segments
  for (let i = 0; i < total; i++) {
    producer.push({ i }, payload(1, i, 1200));
    if (i % 100 === 99) await producer.flush();
  }
  await producer.flush();
  const fdsWriting = fdCount();
  const stats = await topic.stats();
  t.true(stats.partitions[0]!.segments > 1000, `${stats.partitions[0]!.segments} segments`);
  const consumer = await topic.consumer('roller', { until: 'end' });
  let n = 0;
  await consumer.process((e) => {
    if (e.id !== n || !e.data.toBuffer().equals(payload(1, n, 1200))) throw new Error(`event ${e.id} wrong (expected ${n})`);
    n++;
    if (n % 500 === 0) e.acknowledge();
  });
  t.is(n, total);
  const fdsReading = fdCount();
  // While the consumer is open, only the segments of the records it holds stay mapped (two mappings each: its last
  // read batch of at most 256 events spans up to 86 of these 3-event segments, plus the growing last one), not all 1300.
  await settle();
  const mapsReading = mapsOf(root);
  t.true(mapsReading <= 2 * (Math.ceil(256 / 3) + 3), `${mapsReading} mappings of the topic's files while the consumer is open`);
  // A reader in a new driver finds the segments sealed on disk (another path to their index descriptors).
  const other = await Driver.create('files', { root_path: root });
  const again = await (await other.openTopic('rolls')).consumer('again', { until: 'end' });
  let m = 0;
  await again.process((e) => {
    if (e.id !== m || e.data.size !== 1200) throw new Error(`event ${e.id} wrong (expected ${m})`);
    m++;
  });
  t.is(m, total);
  const fdsReadingAgain = fdCount();
  t.true(fdsReadingAgain <= fds0 + 24, `a second reader's descriptors grow with segments: ${fds0} -> ${fdsReadingAgain}`);
  await again.close();
  await other.close();
  await consumer.close();
  await topic.close();
  await d.close();
  await settle();
  // `consumer` is still referenced here: a closed consumer must not keep its read-ahead (and its mappings) alive.
  t.true(consumer.closed);
  const maps = mapsOf(root);
  const fds1 = fdCount();
  t.log(`fds: ${fds0} before, ${fdsWriting} after writing, ${fdsReading} after reading, ${fds1} closed; mappings left ${maps}`);
  t.true(fdsWriting <= fds0 + 12, `writer descriptors grow with segments: ${fds0} -> ${fdsWriting}`);
  t.true(fdsReading <= fds0 + 24, `reader descriptors grow with segments: ${fds0} -> ${fdsReading}`);
  t.true(fds1 <= fds0 + 4, `descriptors left after close: ${fds0} -> ${fds1}`);
  t.true(maps <= 12, `${maps} mappings of the topic's files left after closing everything`);
});
