// `npm start`: the "collisions" example of the user's page, end to end on ./diaspora_data.
// Creates the topic (replacing the demo's previous run), produces events with an `energy` field and a 64x64
// "detector image", then a named consumer keeps the data of events with energy > 20 (zero copy), and a second
// one fetches only an 8x8 rectangle of each image into its own memory, and a third exports every event's metadata
// text a batch at a time (processBatches). Prints what it did and how fast.

import { performance } from 'node:perf_hooks';
import { BatchSize, DataDescriptor, DiasporaError, Driver, ErrorCode, type JsonObject } from '../../lib/index.js';

const ROOT = process.env.DIASPORA_DEMO_ROOT ?? './diaspora_data';
const TOPIC = 'collisions';

/** DIASPORA_DEMO_EVENTS: a positive integer in decimal digits (`abc` gave NaN: "produced NaN events"). */
function eventCount(value: string | undefined): number {
  if (value === undefined) return 200_000;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new DiasporaError(ErrorCode.BAD_CONFIG, `DIASPORA_DEMO_EVENTS must be a positive integer, got ${JSON.stringify(value)}`, { key: 'DIASPORA_DEMO_EVENTS' });
  }
  return n;
}
const W = 64;
const H = 64;

function rate(n: number, ms: number): string {
  return `${Math.round((n / ms) * 1000).toLocaleString('en-US')}/s`;
}

async function main(): Promise<void> {
  const EVENTS = eventCount(process.env.DIASPORA_DEMO_EVENTS); // checked before anything is created
  const driver = await Driver.create('files', { root_path: ROOT });
  if (await driver.topicExists(TOPIC)) await driver.deleteTopic(TOPIC);
  await driver.createTopic(TOPIC, {
    options: { num_partitions: 4 },
    validator: { type: 'schema', schema: { type: 'object', required: ['energy'], properties: { energy: { type: 'number' } } } },
  });
  const topic = await driver.openTopic(TOPIC);
  console.log(`topic "${TOPIC}" with ${topic.partitions.length} partitions under ${ROOT}`);

  // Produce: one image buffer per event (the producer holds data by reference until the push resolves).
  const images = Array.from({ length: 16 }, (_, k) => Buffer.alloc(W * H, k));
  const producer = topic.producer({ name: 'detector', batchSize: BatchSize.Adaptive });
  let t = performance.now();
  let last;
  for (let k = 0; k < EVENTS; k++) {
    last = producer.push({ energy: (k * 37) % 100, k, detector: `d${k % 3}` }, images[k % 16]);
  }
  await last;
  await producer.flush();
  const produceMs = performance.now() - t;
  console.log(`produced ${EVENTS.toLocaleString('en-US')} events of ${W * H} bytes in ${produceMs.toFixed(0)} ms (${rate(EVENTS, produceMs)})`);

  // Consume 1: energy > 20 gets its whole image as zero-copy slices of the mapped segment; others get none.
  const selective = await topic.consumer('high-energy', {
    dataSelector: (md, d) => ((md as JsonObject).energy as number) > 20 ? d : null,
    until: 'end',
  });
  t = performance.now();
  let kept = 0;
  let bytes = 0;
  let n = 0;
  await selective.process((event) => {
    n++;
    if (event.data.size > 0) {
      kept++;
      bytes += event.data.size;
    }
    void event.acknowledge();
  });
  const consumeMs = performance.now() - t;
  console.log(`consumed ${n.toLocaleString('en-US')} events in ${consumeMs.toFixed(0)} ms (${rate(n, consumeMs)}): ` +
    `${kept.toLocaleString('en-US')} with energy > 20 received ${(bytes / 2 ** 20).toFixed(1)} MiB zero-copy`);
  await selective.close();

  // Consume 2: only the 8x8 rectangle at (x=10, y=20) of each image, gathered into our own buffers.
  const x = 10, y = 20, w = 8, h = 8;
  const rect = await topic.consumer('rectangles', {
    dataSelector: (_md, D: DataDescriptor) => D.makeSubView(y * W + x, W * h).makeStridedView(0, h, w, W - w),
    dataAllocator: (_md, d) => Buffer.alloc(d.size),
    until: 'end',
  });
  t = performance.now();
  let rects = 0;
  let check = 0;
  for await (const event of rect) {
    rects++;
    check += event.data.toBuffer()[0];
    void event.acknowledge();
  }
  const rectMs = performance.now() - t;
  await rect.close();
  console.log(`read ${rects.toLocaleString('en-US')} ${w}x${h} rectangles (${w * h} of ${W * H} bytes each) in ${rectMs.toFixed(0)} ms (${rate(rects, rectMs)}), checksum ${check}`);
  // Consume 3: an exporter takes the events a batch at a time (consecutive events of one partition), reads each one's
  // metadata as the stored JSON text (never parsed), selects no data, and acknowledges once per batch.
  const exporter = await topic.consumer('exporter', { dataSelector: () => null, until: 'end' });
  t = performance.now();
  let exported = 0;
  let batches = 0;
  let textBytes = 0;
  await exporter.processBatches((batch) => {
    for (let i = 0; i < batch.length; i++) textBytes += batch.metadataText(i).length + 1;
    exported += batch.length;
    batches++;
    void batch.acknowledge();
  });
  const exportMs = performance.now() - t;
  await exporter.close();
  console.log(`exported ${exported.toLocaleString('en-US')} events' metadata (${(textBytes / 2 ** 20).toFixed(1)} MiB of JSON lines) in ${batches.toLocaleString('en-US')} batches in ${exportMs.toFixed(0)} ms (${rate(exported, exportMs)})`);
  const lag = (await topic.listConsumers()).sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const c of lag) console.log(`consumer "${c.name}": last acknowledged ${c.partitions.map((p) => `p${p.partition}=${p.lastAcknowledged}`).join(' ')}`);
  await driver.close();
}

main().catch((err) => {
  console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}${err instanceof DiasporaError ? ` [${err.code}]` : ''}`);
  process.exit(1);
});
