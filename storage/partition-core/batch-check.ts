// The checks of an append batch, shared by every partition format, run before anything touches the disk (so a
// bad event writes nothing): wrong types are TypeErrors, a part too large to map is EVENT_TOO_LARGE.
import { StorageError, type AppendEvent } from '../types.js';

/** Largest metadata or data part of one event: more could not be mapped safely. */
export const MAX_EVENT_PART_BYTES = 1024 * 1024 * 1024;

/** Per-event sizes of the batch being appended, in scratch arrays reused by every append (no allocation). */
export class BatchSizes {
  meta = new Float64Array(256);
  data = new Float64Array(256);

  reserve(n: number): void {
    if (this.meta.length >= n) return;
    this.meta = new Float64Array(n);
    this.data = new Float64Array(n);
  }
}

/** Checks `events` and records each one's metadata and data sizes in `sizes`; returns the number of events. */
export function checkBatch(events: unknown, sizes: BatchSizes): number {
  if (!Array.isArray(events)) throw new TypeError('append() takes an array of events');
  const n = events.length;
  sizes.reserve(n);
  const metaLens = sizes.meta;
  const dataLens = sizes.data;
  for (let i = 0; i < n; i++) {
    const ev = events[i] as AppendEvent;
    if (ev === null || typeof ev !== 'object') throw new TypeError(`event ${i} must be an object`);
    if (!(ev.metadata instanceof Uint8Array)) throw new TypeError(`event ${i}: metadata must be a Uint8Array`);
    let dataLen = 0;
    const data = ev.data;
    if (data instanceof Uint8Array) dataLen = data.length;
    else if (Array.isArray(data)) {
      for (const piece of data) {
        if (!(piece instanceof Uint8Array)) throw new TypeError(`event ${i}: data pieces must be Uint8Arrays`);
        dataLen += piece.length;
      }
    } else if (data !== undefined) throw new TypeError(`event ${i}: data must be a Uint8Array or an array of them`);
    const ts = ev.timestamp;
    if (ts !== undefined && (typeof ts !== 'number' || !Number.isFinite(ts) || ts < 0 || ts > Number.MAX_SAFE_INTEGER)) {
      throw new TypeError(`event ${i}: timestamp must be a non-negative finite number of ms`);
    }
    if (ev.metadata.length > MAX_EVENT_PART_BYTES || dataLen > MAX_EVENT_PART_BYTES) {
      throw new StorageError('EVENT_TOO_LARGE',
        `event ${i} is too large to store: metadata ${ev.metadata.length} bytes, data ${dataLen} bytes (limit ${MAX_EVENT_PART_BYTES} each)`,
        { index: i, metadataBytes: ev.metadata.length, dataBytes: dataLen });
    }
    metaLens[i] = ev.metadata.length;
    dataLens[i] = dataLen;
  }
  return n;
}
