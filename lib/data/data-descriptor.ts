// DataDescriptor: names the part of an event's data a consumer wants.
//
// Unlike the reference (whose flatten() intersects every stacked selection in absolute coordinates, API.md 2.3),
// views here compose RELATIVELY: a view's offsets are positions in its parent's selected bytes, packed. To keep
// flatten() cheap for deep chains, every descriptor carries its selection already flattened into absolute
// (offset, size) pieces; a new view maps its relative ranges through the parent's pieces in one linear pass.
// The stack of selections is kept too (each view points to its parent), because save() writes it in the reference's layout.
// A selector runs once per consumed event, and its view is nearly always one contiguous piece (a sub view): such a
// view is a single object (its piece and its sub selection are plain number fields), with no arrays to allocate.
import { DiasporaError, ErrorCode } from '../errors.js';

/** One selection of the stack, in the coordinates of the view it was applied to. */
export type Selection =
  | { readonly kind: 'sub'; readonly offset: number; readonly size: number }
  | {
      readonly kind: 'strided';
      readonly offset: number;
      readonly numBlocks: number;
      readonly blockSize: number;
      readonly gapSize: number;
    }
  | { readonly kind: 'unstructured'; readonly segments: ReadonlyArray<readonly [number, number]> };

// Tags of the reference's binary layout (API.md 2.5).
const TAG_SUB = 1;
const TAG_STRIDED = 2;
const TAG_UNSTRUCTURED = 3;

function checkCount(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new TypeError(`${name} must be a non-negative integer, got ${String(value)}`);
  }
  return value;
}

function invalidView(message: string, details: Record<string, unknown> = {}): DiasporaError {
  return new DiasporaError(ErrorCode.INVALID_VIEW, message, details);
}

/**
 * Turns ranges of a parent's packed selection into absolute pieces of the event's data.
 * Ranges must come in increasing order and not overlap (every view guarantees this), so one forward pass over the
 * parent's pieces suffices. Adjacent output pieces are merged; empty ones are never emitted.
 */
class PieceMapper {
  readonly out: number[] = [];
  private index = 0; // current parent piece
  private packedStart = 0; // position of that piece in the parent's packed coordinates
  private lastEnd = -1;

  constructor(private readonly parent: readonly number[]) {}

  add(offset: number, size: number): void {
    const parent = this.parent;
    while (size > 0) {
      let pieceSize = parent[this.index * 2 + 1];
      while (this.packedStart + pieceSize <= offset) {
        this.packedStart += pieceSize;
        this.index++;
        pieceSize = parent[this.index * 2 + 1];
      }
      const within = offset - this.packedStart;
      const take = Math.min(size, pieceSize - within);
      this.emit(parent[this.index * 2] + within, take);
      offset += take;
      size -= take;
    }
  }

  private emit(offset: number, size: number): void {
    const out = this.out;
    if (offset === this.lastEnd) out[out.length - 1] += size;
    else out.push(offset, size);
    this.lastEnd = offset + size;
  }
}

/** An empty view that a sub view past the end produced (EMPTY itself is not marked: it is shared and frozen). */
function truncatedEmpty(): DataDescriptor {
  const view = new DataDescriptor();
  (view as unknown as { truncated: boolean }).truncated = true;
  return Object.freeze(view) as DataDescriptor;
}

/** The sub view made last (any parent): returned again when the same parent asks for the same range. */
let lastSubView: DataDescriptor | null = null;

export class DataDescriptor {
  /** The empty descriptor: selects nothing. Frozen and shared. */
  static readonly EMPTY: DataDescriptor = Object.freeze(new DataDescriptor()) as DataDescriptor;

  /** Opaque string set by the driver (the files driver uses ''). */
  readonly location: string;
  /** Size of the event's whole data. */
  readonly baseSize: number;
  /** Number of bytes this descriptor selects. */
  readonly size: number;
  /**
   * True when a sub view on the way to this one asked for bytes past the end of its parent (clamped, as the
   * reference does). A consumer refuses such a selection with INVALID_VIEW rather than deliver fewer bytes.
   */
  readonly truncated: boolean;
  /**
   * The selection that made this view from `parent`: null for a descriptor of the whole data, and for a sub view
   * (rebuilt from `subOffset` and `size` when asked for, so that making one allocates no selection object).
   */
  private readonly selection: Selection | null;
  /** Offset argument of the sub view that made this view (used only when `parent` is set and `selection` null). */
  private readonly subOffset: number;
  private readonly parent: DataDescriptor | null;
  /** Absolute offset of the single piece [start, size) when `pieces` is null (0 for the whole data). */
  private readonly start: number;
  /** Absolute pieces as [offset0, size0, offset1, size1, ...] when there are two or more; null: at most one. */
  private readonly pieces: readonly number[] | null;

  /** `new DataDescriptor()` is the empty descriptor; `new DataDescriptor(location, n)` selects all n bytes. */
  constructor(location = '', size = 0) {
    if (typeof location !== 'string') throw new TypeError(`location must be a string, got ${typeof location}`);
    checkCount('size', size);
    this.location = location;
    this.baseSize = size;
    this.size = size;
    this.truncated = false;
    this.selection = null;
    this.subOffset = 0;
    this.parent = null;
    this.start = 0;
    this.pieces = null;
  }

  /** True when nothing is selected (size 0). */
  get isEmpty(): boolean {
    return this.size === 0;
  }

  /** True when every byte of the data is selected, in order (no copy or gather needed). */
  get isFull(): boolean {
    // Selected pieces never overlap and touching ones are merged, so selecting baseSize bytes means one piece.
    return this.size === this.baseSize && this.pieces === null;
  }

  /** Number of contiguous pieces `flatten()` would return. */
  get pieceCount(): number {
    if (this.pieces === null) return this.size > 0 ? 1 : 0;
    return this.pieces.length >> 1;
  }

  /** Absolute offset of piece `i` (0 <= i < pieceCount); allocation-free access for the data path. */
  pieceOffset(i: number): number {
    return this.pieces === null ? this.start : this.pieces[i * 2];
  }

  /** Size of piece `i` (0 <= i < pieceCount). */
  pieceSize(i: number): number {
    return this.pieces === null ? this.size : this.pieces[i * 2 + 1];
  }

  /** The selections applied so far, bottom first, each in its parent's coordinates. */
  get selections(): Selection[] {
    const result: Selection[] = [];
    for (let view: DataDescriptor = this; view.parent !== null; view = view.parent) {
      result.push(view.selection ?? { kind: 'sub', offset: view.subOffset, size: view.size });
    }
    return result.reverse();
  }

  /**
   * `size` bytes starting at `offset` of this view. Like the reference it never throws for bounds: the size is
   * clamped to what remains, and `offset >= size`, `size == 0` or an empty parent give an empty view. A range past
   * the end marks the view `truncated`, which a consumer refuses with INVALID_VIEW.
   */
  makeSubView(offset: number, size: number): DataDescriptor {
    checkCount('offset', offset);
    checkCount('size', size);
    if (size === 0) return DataDescriptor.EMPTY;
    // offset == size selects nothing too: unlike the reference (a size-0 view keeping the location), we return EMPTY.
    if (offset >= this.size) return truncatedEmpty();
    const clamped = Math.min(this.size - offset, size);
    const truncated = this.truncated || clamped < size;
    // Descriptors are immutable, so asking the same descriptor for the same view again may return the same object:
    // a selector sees one shared descriptor for consecutive events of one size, and most ask for a fixed range.
    const last = lastSubView;
    if (last !== null && last.parent === this && last.subOffset === offset && last.size === clamped && last.truncated === truncated) return last;
    // A sub view of a one-piece view (the whole data: the common selector case) is one piece: no mapping.
    const view =
      this.pieces === null
        ? this.derive(null, offset, clamped, this.start + offset, null)
        : this.mappedSubView(this.pieces, offset, clamped);
    if (truncated) (view as unknown as { truncated: boolean }).truncated = true;
    lastSubView = view;
    return view;
  }

  /** A sub view of a view of several pieces (out of line: makeSubView runs per event in selectors). */
  private mappedSubView(pieces: readonly number[], offset: number, size: number): DataDescriptor {
    const mapper = new PieceMapper(pieces);
    mapper.add(offset, size);
    return this.deriveMapped(null, offset, size, mapper.out);
  }

  /**
   * `numBlocks` blocks of `blockSize` bytes, the first at `offset`, each followed by `gapSize` skipped bytes.
   * The bounds check counts the gap after the last block, as the reference does.
   */
  makeStridedView(offset: number, numBlocks: number, blockSize: number, gapSize: number): DataDescriptor {
    checkCount('offset', offset);
    checkCount('numBlocks', numBlocks);
    checkCount('blockSize', blockSize);
    checkCount('gapSize', gapSize);
    if (offset > this.size || numBlocks === 0 || blockSize === 0) return DataDescriptor.EMPTY;
    // Computed in doubles: any true value above 2^53 rounds to something still above every valid size.
    if (offset + numBlocks * (blockSize + gapSize) > this.size) {
      throw invalidView('Invalid strided view: would go out of bounds', {
        offset,
        numBlocks,
        blockSize,
        gapSize,
        viewSize: this.size,
      });
    }
    const size = numBlocks * blockSize;
    const mapper = new PieceMapper(this.piecesOrFull());
    if (gapSize === 0) {
      mapper.add(offset, size); // blocks touch: one range, no per-block loop
    } else {
      const stride = blockSize + gapSize;
      for (let i = 0, at = offset; i < numBlocks; i++, at += stride) mapper.add(at, blockSize);
    }
    return this.deriveMapped({ kind: 'strided', offset, numBlocks, blockSize, gapSize }, 0, size, mapper.out);
  }

  /**
   * Arbitrary `[offset, size]` pieces of this view, in increasing order and not overlapping. Pieces that touch
   * are merged; when one piece is left the result is the matching sub view (so `[[0, 0]]` gives EMPTY), and
   * pieces that are all empty give EMPTY.
   */
  makeUnstructuredView(segments: ReadonlyArray<readonly [number, number]>): DataDescriptor {
    if (!Array.isArray(segments)) throw new TypeError('segments must be an array of [offset, size] pairs');
    if (segments.length === 0) return DataDescriptor.EMPTY;
    const merged: Array<[number, number]> = [];
    let current = 0;
    let total = 0;
    for (let i = 0; i < segments.length; i++) {
      const pair = segments[i] as unknown;
      if (!Array.isArray(pair) || pair.length !== 2) {
        throw new TypeError(`segments[${i}] must be an [offset, size] pair`);
      }
      const offset = checkCount(`segments[${i}][0]`, pair[0]);
      const size = checkCount(`segments[${i}][1]`, pair[1]);
      if (offset < current) {
        throw invalidView('Invalid unstructured view: segments overlapping or out of order', { index: i, offset });
      }
      if (offset >= this.size || offset + size > this.size) {
        throw invalidView('Invalid unstructured view: would go out of bounds', {
          index: i,
          offset,
          size,
          viewSize: this.size,
        });
      }
      const last = merged.length > 0 ? merged[merged.length - 1] : undefined;
      if (last !== undefined && last[0] + last[1] === offset) last[1] += size;
      else merged.push([offset, size]);
      current = offset + size;
      total += size;
    }
    if (merged.length === 1) return this.makeSubView(merged[0][0], merged[0][1]);
    if (total === 0) return DataDescriptor.EMPTY; // only empty pieces: a view of nothing is the empty descriptor
    const mapper = new PieceMapper(this.piecesOrFull());
    for (const [offset, size] of merged) mapper.add(offset, size);
    return this.deriveMapped({ kind: 'unstructured', segments: merged }, 0, total, mapper.out);
  }

  /**
   * The selected bytes as absolute `[offset, size]` pieces of the event's data, in delivery order, increasing,
   * without empty pieces, adjacent pieces merged. The empty descriptor gives [] (the reference gives [[0, 0]]).
   */
  flatten(): Array<[number, number]> {
    const count = this.pieceCount;
    const result = new Array<[number, number]>(count);
    for (let i = 0; i < count; i++) result[i] = [this.pieceOffset(i), this.pieceSize(i)];
    return result;
  }

  /**
   * Binary form, the reference's layout (API.md 2.5), little-endian u64s: size, base_size, location length,
   * location (UTF-8), number of selections, then per selection a u8 tag (1 sub, 2 strided, 3 unstructured) and
   * its u64 fields. Selections are stored as given (relative to their parent view).
   */
  save(): Uint8Array {
    const selections = this.selections;
    const location = Buffer.from(this.location, 'utf8');
    let length = 32 + location.length;
    for (const s of selections) {
      length += 1 + (s.kind === 'sub' ? 16 : s.kind === 'strided' ? 32 : 8 + 16 * s.segments.length);
    }
    const out = Buffer.alloc(length);
    let at = 0;
    const u64 = (v: number) => {
      out.writeUInt32LE(v % 0x1_0000_0000, at);
      out.writeUInt32LE(Math.floor(v / 0x1_0000_0000), at + 4);
      at += 8;
    };
    u64(this.size);
    u64(this.baseSize);
    u64(location.length);
    location.copy(out, at);
    at += location.length;
    u64(selections.length);
    for (const s of selections) {
      if (s.kind === 'sub') {
        out[at++] = TAG_SUB;
        u64(s.offset);
        u64(s.size);
      } else if (s.kind === 'strided') {
        out[at++] = TAG_STRIDED;
        u64(s.offset);
        u64(s.numBlocks);
        u64(s.blockSize);
        u64(s.gapSize);
      } else {
        out[at++] = TAG_UNSTRUCTURED;
        u64(s.segments.length);
        for (const [offset, size] of s.segments) {
          u64(offset);
          u64(size);
        }
      }
    }
    return out;
  }

  /**
   * Rebuilds a descriptor written by save(). The selections are replayed through the make*View methods, so every
   * bound is checked again; truncated, trailing or inconsistent bytes (anything but what save() writes for the
   * replayed descriptor: unclamped sizes, unmerged pieces, wrong totals), unknown tags, numbers above 2^53 and
   * invalid UTF-8 all throw INVALID_VIEW (the reference silently skips unknown tags).
   */
  static load(bytes: Uint8Array): DataDescriptor {
    if (!(bytes instanceof Uint8Array)) throw new TypeError('DataDescriptor.load expects a Uint8Array');
    const bad = (why: string, cause?: unknown) =>
      new DiasporaError(ErrorCode.INVALID_VIEW, `Invalid saved DataDescriptor: ${why}`, { offset: at, cause });
    const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let at = 0;
    const need = (n: number) => {
      if (view.length - at < n) throw bad('truncated');
    };
    const u64 = (): number => {
      need(8);
      const low = view.readUInt32LE(at);
      const high = view.readUInt32LE(at + 4);
      if (high > 0x1f_ffff) throw bad('number above 2^53');
      at += 8;
      return high * 0x1_0000_0000 + low;
    };
    const size = u64();
    const baseSize = u64();
    const locationLength = u64();
    need(locationLength);
    let location: string;
    try {
      location = new TextDecoder('utf-8', { fatal: true }).decode(view.subarray(at, at + locationLength));
    } catch (err) {
      throw bad('location is not UTF-8', err);
    }
    at += locationLength;
    const count = u64();
    if (count > (view.length - at) / 17) throw bad('truncated'); // every selection takes at least 17 bytes
    let descriptor = new DataDescriptor(location, baseSize);
    for (let i = 0; i < count; i++) {
      need(1);
      const tag = view[at++];
      try {
        if (tag === TAG_SUB) {
          const offset = u64();
          descriptor = descriptor.makeSubView(offset, u64());
        } else if (tag === TAG_STRIDED) {
          const offset = u64();
          const numBlocks = u64();
          const blockSize = u64();
          descriptor = descriptor.makeStridedView(offset, numBlocks, blockSize, u64());
        } else if (tag === TAG_UNSTRUCTURED) {
          const n = u64();
          if (n > (view.length - at) / 16) throw bad('truncated');
          const segments: Array<[number, number]> = [];
          for (let k = 0; k < n; k++) {
            const offset = u64();
            segments.push([offset, u64()]);
          }
          descriptor = descriptor.makeUnstructuredView(segments);
        } else {
          throw bad(`unknown selection tag ${tag}`);
        }
      } catch (err) {
        if (err instanceof DiasporaError && err.message.startsWith('Invalid saved')) throw err;
        throw bad(`selection ${i} does not apply: ${(err as Error).message}`, err);
      }
    }
    if (at !== view.length) throw bad(`${view.length - at} trailing bytes`);
    // Only the canonical form is accepted: sizes, clamps and merges must be those the selections produce.
    if (descriptor.size !== size || !view.equals(descriptor.save())) {
      throw bad('its sizes or selections are not what the selections produce');
    }
    return descriptor;
  }

  private piecesOrFull(): readonly number[] {
    return this.pieces ?? [this.start, this.size];
  }

  /** A view made by `selection` (null: a sub view at `subOffset`) whose absolute pieces the mapper produced. */
  private deriveMapped(selection: Selection | null, subOffset: number, size: number, pieces: number[]): DataDescriptor {
    // One piece is kept as `start` (no array), so that every one-piece view takes the same fast paths.
    return pieces.length === 2
      ? this.derive(selection, subOffset, size, pieces[0], null)
      : this.derive(selection, subOffset, size, 0, pieces);
  }

  private derive(
    selection: Selection | null,
    subOffset: number,
    size: number,
    start: number,
    pieces: number[] | null,
  ): DataDescriptor {
    const view = new DataDescriptor(this.location, this.baseSize);
    const fields = view as unknown as {
      size: number;
      truncated: boolean;
      selection: Selection | null;
      subOffset: number;
      parent: DataDescriptor;
      start: number;
      pieces: readonly number[] | null;
    };
    fields.size = size;
    fields.truncated = this.truncated;
    fields.selection = selection;
    fields.subOffset = subOffset;
    fields.parent = this;
    fields.start = start;
    fields.pieces = pieces;
    return view;
  }
}
