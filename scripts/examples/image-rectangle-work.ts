// The work of the image-rectangle example, in a module of its own so that worker threads can load it by name
// (`{ module, export }`): the selector (keep the w*h rectangle of energetic images), an allocator, and a processor
// that checks every delivered byte against the image the producer made (it throws on a mismatch, which fails the
// consumer's process()).
import { threadId } from 'node:worker_threads';
import { bufferAllocator, DataDescriptor, type DataSelector, type Event, type JsonValue } from '../../lib/index.js';

export interface ImageMetadata {
  width: number;
  height: number;
  energy: number;
  /** The producer's image pattern (see makeImage). */
  seed: number;
}

export const rect = { x: 3, y: 2, w: 5, h: 4 };

/** Keeps energetic events only, and of those only the rectangle: rows first, then w bytes of each row. */
export const rectangleSelector: DataSelector = (metadata: JsonValue, D: DataDescriptor) => {
  const { width: W, energy } = metadata as unknown as ImageMetadata;
  if (energy <= 20) return null; // no data for this event (the allocator is not called)
  const { x, y, w, h } = rect;
  const rows = D.makeSubView(y * W + x, W * h); // the h rows holding the rectangle, from its first pixel
  return rows.makeStridedView(0, h, w, W - w); // same as D.makeStridedView(y * W + x, h, w, W - w)
};

export { bufferAllocator };

export function makeImage(W: number, H: number, seed: number): Buffer {
  const image = Buffer.alloc(W * H);
  for (let i = 0; i < image.length; i++) image[i] = (i * 7 + seed) % 256;
  return image;
}

export function expectedRectangle(image: Buffer, W: number): Buffer {
  const rows: Buffer[] = [];
  for (let r = rect.y; r < rect.y + rect.h; r++) rows.push(image.subarray(r * W + rect.x, r * W + rect.x + rect.w));
  return Buffer.concat(rows);
}

/** The bytes an event must deliver: the rectangle of its image if energetic, else nothing. */
export function expectedData(m: ImageMetadata): Buffer {
  return m.energy > 20 ? expectedRectangle(makeImage(m.width, m.height, m.seed), m.width) : Buffer.alloc(0);
}

/** Processor for a threaded pool: checks the event's bytes, reports where it ran, acknowledges. */
export function checkRectangle(event: Event): void {
  const m = event.metadata as unknown as ImageMetadata;
  const ok = event.data.toBuffer().equals(expectedData(m));
  console.log(
    `thread ${threadId} event ${event.id} energy ${String(m.energy).padStart(2)}: ${event.data.size} bytes in ` +
      `${event.data.segments.length} segment(s) ${ok ? 'as expected' : 'WRONG'}`,
  );
  if (!ok) throw new Error(`event ${event.id} delivered the wrong bytes`);
  event.acknowledge();
}
