// Memory mappings of segment files (copy-on-write, see map-file.ts). Touching a page past the end of a file raises
// SIGBUS, which kills the process: bytes are only ever touched below the file size measured by the last measure()
// (one fstat). Readers call measure() once per readRange()/read() and per data-check window, not per event, and
// bytes asked for later (a consumer delivering a batch one event at a time) go through coverFresh(), which trusts a
// size only within the turn of the event loop it was measured in (size-trust.ts): a file another process truncates
// is seen and reported as CORRUPTION naming file and offset. What remains is the time between an fstat and the touch
// within one synchronous run, and slices a user already holds (see docs/durability-and-recovery.md).
// A file that may still grow (the last segment) is mapped with headroom past its current end, so that a reader
// tailing a live writer does not need a new mapping per batch: the pages past the end become readable as the file
// grows, and measured without headroom a tailing consumer piled up thousands of mappings faster than the GC
// released them (Linux allows 65,530 per process). Old mappings are unmapped by the GC once no slice refers to
// them, so slices handed out stay valid after close() and even after the file is unlinked.
import fs from 'node:fs';
import { crc32 } from './crc.js';
import { readAt } from './fs-helpers.js';
import { mapFile } from './map-file.js';
import { StorageError } from './types.js';
import { stampMeasure, stillThisTurn } from './size-trust.js';
import { removedByRetention } from './retention/segment-trim.js';


/** Biggest mapping mmap-io can make (its sizes are 32-bit signed ints). */
export const MAX_MAPPING_BYTES = 0x7fff_ffff;
/** How far past the current end a growing file is mapped, at most. */
export const GROWTH_HEADROOM_BYTES = 64 * 1024 * 1024;
/** ... and at least. */
export const MIN_GROWTH_HEADROOM_BYTES = 1024 * 1024;

/**
 * Headroom in proportion to the file (its size, between 1 and 64 MiB): a file that keeps growing is mapped again
 * after doubling (a few mappings while it is small, one per 64 MiB after), and a consumer of many small partitions
 * does not map 64 MiB past each of them: V8 counts a mapping's whole length as external memory, and 64 partitions
 * x 64 MiB of it started five full GCs while reading 200,000 events.
 */
function growthHeadroom(size: number): number {
  return Math.min(GROWTH_HEADROOM_BYTES, Math.max(MIN_GROWTH_HEADROOM_BYTES, size));
}
const EMPTY = Buffer.alloc(0);

/**
 * Maps `length` bytes (the file's `size` plus growth headroom); when that does not fit (out of address space under
 * `ulimit -v`, say), maps `size` bytes alone: a later read past them maps again.
 */
function mapWithFallback(fd: number, length: number, size: number): Buffer {
  try {
    return mapFile(fd, length);
  } catch {
    return mapFile(fd, size);
  }
}

/** A mapping failure names the segment file it was of. */
function withFile(err: unknown, file: string): unknown {
  if (err instanceof StorageError && err.details.file === undefined) {
    return new StorageError(err.code, `${file}: ${err.message}`, { ...err.details, file });
  }
  return err;
}

export class MappedFile {
  readonly path: string;
  private fd: number | null = null;
  private mapping: Buffer = EMPTY;
  /** File size measured by the last fstat: bytes below it may be touched. */
  /** Read-only outside this class: the size cover() trusts, and the turn stamp of its measurement (size-trust.ts). */
  knownSize = 0;
  measuredIn = -1;
  /** Identity of the file the mapping is of (a path may later name another file). */
  private mappedIno = -1;
  private mappedDev = -1;
  /** Set once the file can no longer grow: its descriptor is closed after each mapping (no fd per old segment). */
  sealed = false;
  /**
   * retention: set once the segment left the log (trimmed): its file is or will be unlinked, never truncated, so the
   * mapping and the size last measured stay true and the path is never looked at again.
   */
  private retired = false;

  constructor(filePath: string) {
    this.path = filePath;
  }

  /** A mapping covering at least bytes [0, end) of the file. Throws CORRUPTION if the file is shorter. */
  cover(end: number): Buffer {
    if (end <= this.knownSize && end <= this.mapping.length) return this.mapping;
    if (this.retired) {
      throw new StorageError('CORRUPTION', `bytes up to ${end} of ${this.path} were never mapped before retention removed it`, { file: this.path, offset: Math.min(this.knownSize, this.mapping.length) });
    }
    return this.remap(end);
  }

  /** As cover(), re-measuring the file first unless it was measured in this turn of the event loop. */
  coverFresh(end: number): Buffer {
    if (end <= this.knownSize && end <= this.mapping.length && stillThisTurn(this.measuredIn)) return this.mapping;
    this.measure();
    return this.cover(end);
  }

  /**
   * Re-measures the file (one fstat; a stat by path, checked to be the same file, once the descriptor of a sealed
   * file is closed): cover() trusts this size until the next call. Returns it.
   */
  measure(): number {
    let size: number;
    if (this.retired) {
      this.measuredIn = stampMeasure();
      return this.knownSize;
    }
    if (this.fd !== null) size = fs.fstatSync(this.fd).size;
    else if (this.mappedIno === -1) return this.knownSize; // never mapped: nothing to protect, the next cover() measures
    else {
      let st: fs.Stats;
      try {
        st = fs.statSync(this.path);
      } catch (cause) {
        // retention: a file retention removed was unlinked, never truncated: what is mapped of it stays valid.
        if ((cause as NodeJS.ErrnoException).code === 'ENOENT' && removedByRetention(this.path)) {
          this.measuredIn = stampMeasure();
          return this.knownSize;
        }
        if ((cause as NodeJS.ErrnoException).code !== 'ENOENT') {
          throw new StorageError('IO', `cannot stat segment file ${this.path}: ${(cause as Error).message}`, { file: this.path, cause });
        }
        throw new StorageError('CORRUPTION', `segment file ${this.path} was deleted`, { file: this.path, offset: 0, cause });
      }
      if (st.ino !== this.mappedIno || st.dev !== this.mappedDev) {
        throw new StorageError('CORRUPTION', `segment file ${this.path} was replaced by another file`, { file: this.path, offset: 0 });
      }
      size = st.size;
    }
    this.knownSize = size;
    this.measuredIn = stampMeasure();
    return size;
  }

  private remap(end: number): Buffer {
    if (this.fd === null) {
      try {
        this.fd = fs.openSync(this.path, 'r');
      } catch (cause) {
        // A missing file is damage; any other failure (EMFILE, ENFILE, ENOMEM, EACCES) is I/O: the file may be intact.
        if ((cause as NodeJS.ErrnoException).code === 'ENOENT') {
          throw new StorageError('CORRUPTION', `cannot open segment file ${this.path}`, { file: this.path, offset: 0, cause });
        }
        throw new StorageError('IO', `cannot open segment file ${this.path}: ${(cause as Error).message}`, { file: this.path, cause });
      }
    }
    const st = fs.fstatSync(this.fd);
    const size = st.size;
    if (size < end) {
      this.knownSize = size;
      if (this.sealed) this.closeFd();
      throw this.tooShort(end);
    }
    if (size > MAX_MAPPING_BYTES) {
      throw new StorageError('EVENT_TOO_LARGE', `${this.path} is too large to map (${size} bytes)`, { file: this.path });
    }
    this.knownSize = size;
    this.measuredIn = stampMeasure();
    if (end <= this.mapping.length && st.ino === this.mappedIno && st.dev === this.mappedDev) {
      // The file grew into the headroom already mapped.
      if (this.sealed) this.closeFd();
      return this.mapping;
    }
    const length = this.sealed ? size : Math.min(MAX_MAPPING_BYTES, size + growthHeadroom(size));
    try {
      this.mapping = length > size ? mapWithFallback(this.fd, length, size) : mapFile(this.fd, length);
    } catch (err) {
      if (this.sealed) this.closeFd();
      throw withFile(err, this.path);
    }
    this.mappedIno = st.ino;
    this.mappedDev = st.dev;
    if (this.sealed) this.closeFd();
    return this.mapping;
  }

  /** The mapping now (empty before the first cover() and after release()): records keep the one they were read from. */
  get current(): Buffer {
    return this.mapping;
  }

  /**
   * Checks, without mapping anything, that bytes [0, end) are in the file as measured in this turn of the event loop
   * (measuring again otherwise): for records holding a mapping of their own. CORRUPTION if the file is shorter.
   */
  checkSize(end: number): void {
    if (end > this.knownSize || !stillThisTurn(this.measuredIn)) this.measure();
    if (end > this.knownSize) throw this.tooShort(end);
  }

  /** CORRUPTION: the file, as last measured, ends before `end`, which a committed entry needs. */
  private tooShort(end: number): StorageError {
    return new StorageError('CORRUPTION', `${this.path} is ${this.knownSize} bytes long but a committed entry needs ${end}`, {
      file: this.path, offset: this.knownSize,
    });
  }

  /**
   * Whether bytes [offset, offset + length), which fail checksum `crc` as mapped, are intact in the file: then this
   * process wrote into its private copy (a consumer writing into a zero-copy slice, which is allowed), and the file
   * is not damaged. The mapping is dropped: the next cover() maps the file afresh, so reads from now on see the
   * file's bytes (slices handed out before keep the copy they were written in). False if the file cannot be read,
   * was replaced, or holds bad bytes too (damage).
   */
  changedInMemoryOnly(offset: number, length: number, crc: number): boolean {
    let fd: number;
    try {
      fd = fs.openSync(this.path, 'r');
    } catch {
      return false;
    }
    try {
      const st = fs.fstatSync(fd);
      if (st.ino !== this.mappedIno || st.dev !== this.mappedDev || st.size < offset + length) return false;
      const bytes = Buffer.allocUnsafe(length);
      if (readAt(fd, bytes, 0, length, offset) !== length || crc32(bytes) !== crc) return false;
    } finally {
      fs.closeSync(fd);
    }
    this.mapping = EMPTY;
    return true;
  }

  /**
   * A reader moved on from this (sealed) file: drop the reference to its mapping, which the GC unmaps once no record
   * or slice refers to it (a reader going through a long partition would otherwise keep two mappings per segment
   * it read, against Linux's 65,530 per process). The size and identity measured stay: records holding the old
   * mapping are still checked against truncation, and a later read maps the file again.
   */
  release(): void {
    if (this.sealed) this.mapping = EMPTY;
  }

  /** Current size of the file on disk (0 when it does not exist). */
  size(): number {
    // With the descriptor open this is a measurement like measure()'s: recorded, so the read that follows in this
    // turn of the event loop need not fstat again.
    if (this.fd !== null) return this.measure();
    try {
      return fs.statSync(this.path).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw err;
    }
  }

  /** No more growth: release the descriptor (the mapping stays). */
  seal(): void {
    this.sealed = true;
    this.closeFd();
  }

  private closeFd(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }

  /**
   * retention: the file left the log. Closes the descriptor but keeps the mapping and its measured size, so records
   * read before the trim still give their bytes; the mapping goes with the last object referring to it (GC).
   */
  retire(): void {
    this.closeFd();
    this.retired = true;
  }

  /** Closes the descriptor; existing mappings (and slices of them) stay readable until collected. */
  close(): void {
    this.closeFd();
    this.mapping = EMPTY;
  }
}
