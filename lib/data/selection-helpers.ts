// Ready-made selector and allocator (the reference's Python FullDataSelector and ByteArrayAllocator).
import type { DataAllocator, DataSelector } from './selection.js';

/** Selects all of every event's data. */
export const fullDataSelector: DataSelector = (_metadata, descriptor) => descriptor;

/** Gathers the selection into one new Buffer of exactly `descriptor.size` bytes (owned by the event). */
export const bufferAllocator: DataAllocator = (_metadata, descriptor) => Buffer.allocUnsafe(descriptor.size);
