// Data selection for a consumer: the selector picks a DataDescriptor, the allocator (optional) supplies memory.
// Without an allocator the event's data is delivered zero-copy, one subarray of the source per selected piece;
// with one, the selected pieces are gathered into the allocator's memory, packed in flatten() order.
import { DiasporaError, ErrorCode } from '../errors.js';
import type { JsonValue } from '../json.js';
import { DataDescriptor } from './data-descriptor.js';
import { DataView } from './data-view.js';

/** Returns the part of the data to deliver: the given descriptor (all), a view of it, or null/undefined/empty (none). */
/** `M`: the consumer's metadata type (default any JSON value). */
export type DataSelector<M = JsonValue> = (metadata: M, descriptor: DataDescriptor) => DataDescriptor | null | undefined;

/** Returns writable memory of at least `descriptor.size` bytes to gather the selection into. */
export type DataAllocator<M = JsonValue> = (
  metadata: M,
  descriptor: DataDescriptor,
) => DataView | Uint8Array | readonly Uint8Array[];

export { fullDataSelector, bufferAllocator } from './selection-helpers.js';

// Below this many bytes a plain loop beats the native call of TypedArray.prototype.set.
const SMALL_COPY = 32;

/** Where an event's data comes from: its size, and its bytes on demand (a driver's BackendRecord is one). */
export interface DataSource {
  readonly dataSize: number;
  /** The event's whole data bytes, zero-copy where the engine can; called only when some data is selected. */
  data(): Uint8Array;
  /**
   * Optional: bytes [offset, offset + size) of the data (within it), checked as data() is. Lets a zero-copy selection
   * of one piece cost one slice instead of a slice of the whole data plus a slice of that.
   */
  dataSlice?(offset: number, size: number): Uint8Array;
}

/**
 * Runs the selector, then (only if something is selected) the allocator, and returns the event's DataView.
 * `source` returns the event's whole data bytes; it is called only when some data is selected.
 * No selector means all data. Errors: a selector result that is not a DataDescriptor/null/undefined -> TypeError;
 * a non-empty descriptor for a different data size, or a `truncated` one (a sub view past the end) -> INVALID_VIEW; allocator memory smaller than the selection
 * -> BUFFER_TOO_SMALL; a source shorter than `dataSize` -> CORRUPTION.
 */
export function selectData(
  metadata: JsonValue,
  dataSize: number,
  source: () => Uint8Array,
  selector?: DataSelector | null,
  allocator?: DataAllocator | null,
  location = '',
): DataView {
  checkDataSize(dataSize);
  if (selector != null && typeof selector !== 'function') throw new TypeError('dataSelector must be a function');
  if (allocator != null && typeof allocator !== 'function') throw new TypeError('dataAllocator must be a function');
  return select(metadata, { dataSize, data: source }, selector, allocator, location);
}

/**
 * @internal selectData for callers that checked `selector` and `allocator` once (a consumer, at creation): the
 * per-event path, taking the engine's record itself as the source so that no closure is made per event.
 */
export function selectEventData(
  metadata: JsonValue,
  record: DataSource,
  selector: DataSelector | null | undefined,
  allocator: DataAllocator | null | undefined,
  location = '',
): DataView {
  checkDataSize(record.dataSize);
  return select(metadata, record, selector, allocator, location);
}

/**
 * @internal the whole data of a record for a consumer without selector or allocator (its batches): the bytes
 * themselves, zero-copy, no DataView made. Errors as selectEventData's fast path.
 */
export function allEventData(record: DataSource): Uint8Array {
  const dataSize = record.dataSize;
  checkDataSize(dataSize);
  return dataSize === 0 ? NO_BYTES : wholeData(record, dataSize);
}

/** @internal the one empty byte array handed out for "no data" (by allEventData and EventBatch.dataBytes). */
export const NO_BYTES = new Uint8Array(0);

function select(
  metadata: JsonValue,
  record: DataSource,
  selector: DataSelector | null | undefined,
  allocator: DataAllocator | null | undefined,
  location: string,
): DataView {
  const dataSize = record.dataSize;
  // Fast path (the consumer's default): all data, zero copy, no descriptor at all.
  if (selector == null && allocator == null) {
    return dataSize === 0 ? DataView.EMPTY : new DataView(wholeData(record, dataSize));
  }

  const full = fullDescriptor(location, dataSize);
  let chosen: DataDescriptor = full;
  if (selector != null) {
    const result: unknown = selector(metadata, full);
    if (result === null || result === undefined) return DataView.EMPTY;
    if (!(result instanceof DataDescriptor)) throw notADescriptor(result);
    chosen = result;
  }
  if (chosen.truncated) throw pastTheEnd(chosen);
  if (chosen.isEmpty) return DataView.EMPTY;
  if (chosen.baseSize !== dataSize) throw otherDataSize(chosen, dataSize);
  if (allocator == null) {
    // One piece from a source that slices itself: a single view of the mapping, not a view of a view.
    if (record.dataSlice !== undefined && chosen.pieceCount === 1) {
      return new DataView(pieceOf(record, chosen.pieceOffset(0), chosen.pieceSize(0)));
    }
    return sliceSelection(wholeData(record, dataSize), chosen);
  }
  const memory = allocatorSegments(allocator(metadata, chosen));
  return gatherSelection(wholeData(record, dataSize), chosen, memory);
}

// Errors are built out of line: the per-event functions stay small enough for the optimizing compiler to inline them
// into the consumer's loop beside the metadata decoding (profiled: with them inline, consumers that select data
// got the metadata decoding compiled out of line).
function notADescriptor(result: unknown): TypeError {
  return new TypeError(`dataSelector must return a DataDescriptor, null or undefined, got ${describe(result)}`);
}

function pastTheEnd(chosen: DataDescriptor): DiasporaError {
  return new DiasporaError(
    ErrorCode.INVALID_VIEW,
    `The selected view asks for bytes past the end of the event's ${chosen.baseSize} bytes (a sub view out of bounds)`,
    { dataSize: chosen.baseSize },
  );
}

function otherDataSize(chosen: DataDescriptor, dataSize: number): DiasporaError {
  return new DiasporaError(
    ErrorCode.INVALID_VIEW,
    `The selected DataDescriptor describes ${chosen.baseSize} bytes but the event has ${dataSize}`,
    { descriptorBaseSize: chosen.baseSize, dataSize },
  );
}

function notBytes(bytes: unknown): TypeError {
  return new TypeError(`data source must return a Uint8Array, got ${describe(bytes)}`);
}

function shortData(bytes: Uint8Array, dataSize: number): DiasporaError {
  return new DiasporaError(ErrorCode.CORRUPTION, `Event data has ${bytes.length} bytes, ${dataSize} expected`, {
    dataSize,
    available: bytes.length,
  });
}

function checkDataSize(dataSize: unknown): void {
  if (typeof dataSize !== 'number' || !Number.isSafeInteger(dataSize) || dataSize < 0) throw badDataSize(dataSize);
}

function badDataSize(dataSize: unknown): TypeError {
  return new TypeError(`dataSize must be a non-negative integer, got ${String(dataSize)}`);
}

// Descriptors are immutable: consecutive events of the same size (the common case) share one full descriptor.
let lastFull = new DataDescriptor('', 0);
function fullDescriptor(location: string, dataSize: number): DataDescriptor {
  if (lastFull.baseSize !== dataSize || lastFull.location !== location) lastFull = new DataDescriptor(location, dataSize);
  return lastFull;
}

function wholeData(record: DataSource, dataSize: number): Uint8Array {
  const bytes = record.data();
  if (!(bytes instanceof Uint8Array)) throw notBytes(bytes);
  const length = bytes.length;
  if (length === dataSize) return bytes;
  if (length < dataSize) throw shortData(bytes, dataSize);
  return bytes.subarray(0, dataSize);
}

function pieceOf(record: DataSource, offset: number, size: number): Uint8Array {
  const bytes = (record.dataSlice as (offset: number, size: number) => Uint8Array).call(record, offset, size);
  if (!(bytes instanceof Uint8Array)) throw notBytes(bytes);
  if (bytes.length !== size) throw shortData(bytes, size);
  return bytes;
}

/** Zero copy: one subarray of `bytes` per selected piece (they share its ArrayBuffer). */
function sliceSelection(bytes: Uint8Array, descriptor: DataDescriptor): DataView {
  if (descriptor.isFull) return new DataView(bytes);
  const count = descriptor.pieceCount;
  if (count === 1) {
    // A plain Uint8Array view costs less than Buffer#subarray (no species lookup); it shares the same memory.
    return new DataView(new Uint8Array(bytes.buffer, bytes.byteOffset + descriptor.pieceOffset(0), descriptor.pieceSize(0)));
  }
  return new DataView(slices(bytes, descriptor, count));
}

function slices(bytes: Uint8Array, descriptor: DataDescriptor, count: number): Uint8Array[] {
  const out = new Array<Uint8Array>(count);
  for (let i = 0; i < count; i++) {
    const offset = descriptor.pieceOffset(i);
    out[i] = bytes.subarray(offset, offset + descriptor.pieceSize(i));
  }
  return out;
}

function allocatorSegments(memory: unknown): readonly Uint8Array[] {
  if (memory instanceof DataView) return memory.segments;
  if (memory instanceof Uint8Array) return [memory];
  if (Array.isArray(memory)) {
    for (let i = 0; i < memory.length; i++) {
      if (!(memory[i] instanceof Uint8Array)) {
        throw new TypeError(`dataAllocator returned a non-Uint8Array segment ${i}: ${describe(memory[i])}`);
      }
    }
    return memory as Uint8Array[];
  }
  throw new TypeError(`dataAllocator must return a DataView, a Uint8Array or an array of them, got ${describe(memory)}`);
}

/**
 * Copies the selected pieces, in order, packed into `memory`. The result views exactly the `descriptor.size`
 * bytes written (the allocator's segments, the last one cut to what was used); extra capacity is left untouched.
 */
function gatherSelection(bytes: Uint8Array, descriptor: DataDescriptor, memory: readonly Uint8Array[]): DataView {
  const needed = descriptor.size;
  let capacity = 0;
  for (const segment of memory) capacity += segment.length;
  if (capacity < needed) {
    throw new DiasporaError(
      ErrorCode.BUFFER_TOO_SMALL,
      `The data allocator returned ${capacity} bytes but the selection needs ${needed}`,
      { needed, capacity },
    );
  }
  let target = 0; // index into memory
  let targetAt = 0; // position inside memory[target]
  const count = descriptor.pieceCount;
  for (let i = 0; i < count; i++) {
    let from = descriptor.pieceOffset(i);
    let remaining = descriptor.pieceSize(i);
    while (remaining > 0) {
      let destination = memory[target];
      while (targetAt === destination.length) {
        destination = memory[++target];
        targetAt = 0;
      }
      const take = Math.min(remaining, destination.length - targetAt);
      if (take < SMALL_COPY) {
        for (let k = 0; k < take; k++) destination[targetAt + k] = bytes[from + k];
      } else {
        destination.set(take === bytes.length ? bytes : bytes.subarray(from, from + take), targetAt);
      }
      from += take;
      targetAt += take;
      remaining -= take;
    }
  }
  return deliveredView(memory, needed, capacity);
}

function deliveredView(memory: readonly Uint8Array[], needed: number, capacity: number): DataView {
  if (capacity === needed && memory.every((segment) => segment.length > 0)) return new DataView(memory);
  const used: Uint8Array[] = [];
  let left = needed;
  for (const segment of memory) {
    if (left === 0) break;
    if (segment.length === 0) continue;
    const take = Math.min(left, segment.length);
    used.push(take === segment.length ? segment : segment.subarray(0, take));
    left -= take;
  }
  return new DataView(used);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return typeof value;
}
