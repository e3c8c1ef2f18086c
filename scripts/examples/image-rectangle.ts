// The image-rectangle example of the Diaspora consumer documentation, end to end on the files driver:
// events carry a W*H monochrome image (row-major, one byte per pixel); consumers ask only for the w*h rectangle at
// (x, y), once zero-copy (slices of the mapped segment file) and once gathered into one buffer per event.
// Run: npx tsc -p tsconfig.json && node dist/scripts/examples/image-rectangle.js
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bufferAllocator, DataDescriptor, Driver, type DataSelector, type JsonValue } from '../../lib/index.js';

interface ImageMetadata {
  width: number;
  height: number;
  energy: number;
}

const rect = { x: 3, y: 2, w: 5, h: 4 };

/** Keeps energetic events only, and of those only the rectangle: rows first, then w bytes of each row. */
const rectangleSelector: DataSelector = (metadata: JsonValue, D: DataDescriptor) => {
  const { width: W, energy } = metadata as unknown as ImageMetadata;
  if (energy <= 20) return null; // no data for this event (the allocator is not called)
  const { x, y, w, h } = rect;
  const rows = D.makeSubView(y * W + x, W * h); // the h rows holding the rectangle, from its first pixel
  return rows.makeStridedView(0, h, w, W - w); // same as D.makeStridedView(y * W + x, h, w, W - w)
};

function makeImage(W: number, H: number, seed: number): Buffer {
  const image = Buffer.alloc(W * H);
  for (let i = 0; i < image.length; i++) image[i] = (i * 7 + seed) % 256;
  return image;
}

function expectedRectangle(image: Buffer, W: number): Buffer {
  const rows: Buffer[] = [];
  for (let r = rect.y; r < rect.y + rect.h; r++) rows.push(image.subarray(r * W + rect.x, r * W + rect.x + rect.w));
  return Buffer.concat(rows);
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'image-rectangle-'));
try {
  const driver = await Driver.create('files', { root_path: root });
  await driver.createTopic('images', { options: { num_partitions: 1 } });
  const topic = await driver.openTopic('images');

  const W = 16;
  const H = 9;
  const images: Buffer[] = [];
  const producer = topic.producer({ name: 'camera' });
  for (let i = 0; i < 6; i++) {
    images.push(makeImage(W, H, i));
    producer.push({ width: W, height: H, energy: i * 10 }, images[i]); // energies 0, 10, ..., 50
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
      const expected = energy > 20 ? expectedRectangle(images[event.id], W) : Buffer.alloc(0);
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
  await driver.close();
  if (failures > 0) {
    console.error(`${failures} event(s) delivered the wrong bytes`);
    process.exitCode = 1;
  }
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
