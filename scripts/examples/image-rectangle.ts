// The image-rectangle example of the Diaspora consumer documentation, end to end on the files driver:
// events carry a W*H monochrome image (row-major, one byte per pixel); consumers ask only for the w*h rectangle at
// (x, y), once zero-copy (slices of the mapped segment file) and once gathered into one buffer per event; then the
// same two ways on a 2-thread pool, where the selector, allocator and a checking processor run in worker threads
// (named by module: image-rectangle-work.ts).
// Run: npx tsc -p tsconfig.json && node dist/scripts/examples/image-rectangle.js
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bufferAllocator, Driver } from '../../lib/index.js';
import { expectedData, makeImage, rectangleSelector, type ImageMetadata } from './image-rectangle-work.js';

const work = new URL('./image-rectangle-work.js', import.meta.url);

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'image-rectangle-'));
try {
  const driver = await Driver.create('files', { root_path: root });
  await driver.createTopic('images', { options: { num_partitions: 2 } }); // two partitions: two threads at work
  const topic = await driver.openTopic('images');

  const W = 16;
  const H = 9;
  const images: Buffer[] = [];
  const producer = topic.producer({ name: 'camera' });
  for (let i = 0; i < 6; i++) {
    images.push(makeImage(W, H, i));
    producer.push({ width: W, height: H, energy: i * 10, seed: i }, images[i], i % 2); // energies 0, 10, ..., 50
  }
  await producer.flush();
  await producer.close();

  let failures = 0;
  for (const mode of ['zero-copy', 'gathered'] as const) {
    const consumer = await topic.consumer(`viewer-${mode}`, {
      dataSelector: rectangleSelector,
      dataAllocator: mode === 'gathered' ? bufferAllocator : undefined,
      until: 'end',
    });
    for await (const event of consumer) {
      const { energy } = event.metadata as unknown as ImageMetadata;
      const data = event.data; // a DataView: segments + size
      const expected = expectedData(event.metadata as unknown as ImageMetadata);
      const ok = data.toBuffer().equals(expected);
      if (!ok) failures++;
      console.log(
        `${mode.padEnd(9)} event ${event.id} energy ${String(energy).padStart(2)}: ${data.size} bytes in ` +
          `${data.segments.length} segment(s) ${ok ? 'as expected' : 'WRONG'}`,
      );
      event.acknowledge();
    }
    await consumer.close();
  }

  // The same on two worker threads: each worker maps the segment file itself (zero copy there too), runs the
  // selector (and allocator), and the processor checks the bytes (throwing, which fails process(), if wrong).
  const pool = driver.makeThreadPool(2);
  for (const mode of ['zero-copy', 'gathered'] as const) {
    const consumer = await topic.consumer(`threaded-${mode}`, {
      dataSelector: { module: work, export: 'rectangleSelector' },
      dataAllocator: mode === 'gathered' ? { module: work, export: 'bufferAllocator' } : undefined,
      until: 'end',
    });
    try {
      const n = await consumer.process({ module: work, export: 'checkRectangle' }, { threadPool: pool });
      console.log(`threaded ${mode}: ${n} events checked on ${pool.threadCount} worker threads`);
    } catch (err) {
      failures++;
      console.error(`threaded ${mode}: ${(err as Error).message}`);
    }
    await consumer.close(); // the last consumer using the pool: its threads end here
  }
  await driver.close();
  if (failures > 0) {
    console.error(`${failures} event(s) delivered the wrong bytes`);
    process.exitCode = 1;
  }
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
