// DataView: a non-owning list of byte segments seen as one logical sequence (the Diaspora DataView).
// Named like the API's class; it shadows the JavaScript global DataView in modules that import it.
// Segments are kept as given (no copy), so a view of mapped memory stays zero-copy. read/write cross segment
// boundaries correctly, fixing the reference's overrun when the start offset falls inside a segment (API.md 7.1.3).

function checkCount(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new TypeError(`${name} must be a non-negative integer, got ${String(value)}`);
  }
  return value;
}

export class DataView {
  static readonly EMPTY: DataView = Object.freeze(new DataView()) as DataView;

  readonly segments: readonly Uint8Array[];
  private readonly totalSize: number;

  /** A view of no bytes, of one Uint8Array (a Buffer is one), or of several (the array is copied, not the bytes). */
  constructor(segments?: Uint8Array | readonly Uint8Array[]) {
    if (segments === undefined) {
      this.segments = [];
      this.totalSize = 0;
    } else if (segments instanceof Uint8Array) {
      // Not the literal [segments]: a consumer makes one view per event, and V8 at times decided to pretenure that
      // literal's allocation site (from a few early objects that looked long-lived), after which every event's slice
      // was promoted out of the young generation: 15-30% of a consumer's rate (Node 20), in some processes and not
      // others. `new Array` sites keep being sampled and were never pretenured in the same runs.
      const list = new Array<Uint8Array>(1);
      list[0] = segments;
      this.segments = list;
      this.totalSize = segments.length;
    } else if (Array.isArray(segments)) {
      const list = segments.slice() as Uint8Array[];
      this.segments = list;
      this.totalSize = totalOf(list);
    } else {
      throw notSegments(segments);
    }
  }

  /** Total number of bytes over all segments. */
  get size(): number {
    return this.totalSize;
  }

  /** A copy of `size` bytes from logical `offset` (defaults: everything from 0), clamped to the end. */
  read(offset = 0, size?: number): Buffer {
    checkCount('offset', offset);
    const available = Math.max(0, this.totalSize - offset);
    const length = size === undefined ? available : Math.min(checkCount('size', size), available);
    const out = Buffer.allocUnsafe(length);
    this.spans(offset, length, (segment, within, done, take) => out.set(segment.subarray(within, within + take), done));
    return out;
  }

  /** Copies `source` into the view from logical `offset`, across segments; returns the bytes written (clamped). */
  write(source: Uint8Array, offset = 0): number {
    if (!(source instanceof Uint8Array)) throw new TypeError(`write expects a Uint8Array, got ${describe(source)}`);
    checkCount('offset', offset);
    const length = Math.min(source.length, Math.max(0, this.totalSize - offset));
    this.spans(offset, length, (segment, within, done, take) => segment.set(source.subarray(done, done + take), within));
    return length;
  }

  /**
   * Visits the pieces of segments covering logical bytes [offset, offset + length): for each, the segment, the
   * position inside it, how many bytes came before (`done`) and how many it contributes. A range starting inside a
   * segment is handled (the reference copied min(size, segment size) there and overran the segment).
   */
  private spans(offset: number, length: number, visit: (segment: Uint8Array, within: number, done: number, take: number) => void): void {
    let done = 0;
    let segmentStart = 0;
    for (const segment of this.segments) {
      if (done === length) break;
      const segmentEnd = segmentStart + segment.length;
      const at = offset + done;
      if (at < segmentEnd) {
        const within = at - segmentStart;
        const take = Math.min(length - done, segment.length - within);
        visit(segment, within, done, take);
        done += take;
      }
      segmentStart = segmentEnd;
    }
  }

  /** All bytes as one Buffer: no copy when there is exactly one segment, a concatenated copy otherwise. */
  toBuffer(): Buffer {
    const segments = this.segments;
    if (segments.length === 1) {
      const only = segments[0];
      return Buffer.isBuffer(only) ? only : Buffer.from(only.buffer, only.byteOffset, only.byteLength);
    }
    if (segments.length === 0) return Buffer.alloc(0);
    return Buffer.concat(segments as Uint8Array[], this.totalSize);
  }
}

function notSegments(value: unknown): TypeError {
  return new TypeError(`DataView expects a Uint8Array or an array of them, got ${describe(value)}`);
}

/** Total size of a list of segments, checking that each is a Uint8Array (out of line: the constructor is per event). */
function totalOf(list: readonly unknown[]): number {
  let total = 0;
  for (let i = 0; i < list.length; i++) {
    const segment = list[i];
    if (!(segment instanceof Uint8Array)) {
      throw new TypeError(`DataView segment ${i} must be a Uint8Array, got ${describe(segment)}`);
    }
    total += segment.length;
  }
  return total;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return typeof value;
}
