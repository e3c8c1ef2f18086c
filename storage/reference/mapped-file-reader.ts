// Zero-copy access (copy-on-write mappings, see ../map-file.ts) to a file that only grows (a reference-format index, metadata or data file).
// The reference keeps one file per kind per partition, with no segments, so a file may outgrow what one mmap-io
// mapping can hold (sizes and offsets are 32-bit signed ints there). The file is therefore mapped in fixed chunks;
// a range inside one chunk is a subarray of that chunk's mapping; a range crossing a chunk boundary gets a mapping
// of its own; a range beyond mmap-io's offset limit (2 GiB) is read with pread into a fresh buffer (a copy).
// A chunk is mapped whole, also past the end of a growing file (only its current bytes where the whole chunk does not
// fit in the address space, e.g. under `ulimit -v`); bytes are only touched below a size measured by
// fstat: once per read call (the log measures its files), and again for bytes asked for later (sliceFresh, e.g. data
// of an event a consumer delivers from a batch) unless measured in this turn of the event loop (../size-trust.ts). A file truncated by
// another process is then reported (null: the log turns it into CORRUPTION) instead of killing the process with SIGBUS.
import fs from 'node:fs';
import { readAt } from '../fs-helpers.js';
import { mapFile, PAGE_SIZE } from '../map-file.js';
import { stampMeasure, stillThisTurn } from '../size-trust.js';
import { StorageError } from '../types.js';

const PAGE = PAGE_SIZE;
/** mmap-io passes sizes and offsets as C ints. */
const MMAP_INT_LIMIT = 0x7fffffff;

export interface MappedFileReaderOptions {
  /** Chunk size in bytes (a multiple of the page size). Default 1 GiB. */
  chunkBytes?: number;
  /** Ranges ending past this file offset are read with pread (copied) instead of mapped. Default 2 GiB - 1. */
  mapLimit?: number;
}

function alignDown(n: number): number {
  return n - (n % PAGE);
}

export class MappedFileReader {
  readonly file: string;
  private readonly chunkBytes: number;
  private readonly mapLimit: number;
  private fd: number | null = null;
  private readonly chunks: Buffer[] = [];
  private knownSize = 0;
  private measuredIn = -1;

  constructor(file: string, options: MappedFileReaderOptions = {}) {
    this.file = file;
    this.chunkBytes = options.chunkBytes ?? 1024 * 1024 * 1024;
    this.mapLimit = Math.min(options.mapLimit ?? MMAP_INT_LIMIT, MMAP_INT_LIMIT);
    if (this.chunkBytes <= 0 || this.chunkBytes % PAGE !== 0 || this.chunkBytes > MMAP_INT_LIMIT) {
      throw new RangeError(`chunkBytes must be a positive multiple of ${PAGE} below 2 GiB`);
    }
  }

  /** Opens the file lazily; a missing file reads as empty until it appears. */
  private handle(): number | null {
    if (this.fd === null) {
      try {
        this.fd = fs.openSync(this.file, 'r');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw err;
      }
    }
    return this.fd;
  }

  /** Current file size (fstat). */
  size(): number {
    const fd = this.handle();
    this.knownSize = fd === null ? 0 : fs.fstatSync(fd).size;
    this.measuredIn = stampMeasure();
    return this.knownSize;
  }

  /** Size seen by the last size() call (no system call). */
  get cachedSize(): number {
    return this.knownSize;
  }

  /** As slice(), re-measuring the file first unless it was measured in this turn of the event loop. */
  sliceFresh(offset: number, length: number): Buffer | null {
    if (!stillThisTurn(this.measuredIn)) this.size();
    return this.slice(offset, length);
  }

  /** False when bytes [0, end) are no longer all in the file (measured in this turn of the event loop). */
  stillCovers(end: number): boolean {
    if (!stillThisTurn(this.measuredIn)) this.size();
    return end <= this.knownSize;
  }

  /**
   * Returns bytes [offset, offset+length) as a Buffer: a view of a mapping when possible, else a copy.
   * Returns null when the file does not (yet) hold all of them: the caller decides whether that is corruption.
   */
  slice(offset: number, length: number): Buffer | null {
    const end = offset + length;
    if (end > this.knownSize && end > this.size()) return null;
    if (length === 0) return Buffer.alloc(0);
    if (end > this.mapLimit) return this.copy(offset, length);
    const chunk = Math.floor(offset / this.chunkBytes);
    const chunkStart = chunk * this.chunkBytes;
    if (end <= chunkStart + this.chunkBytes) {
      let map = this.chunks[chunk];
      if (map === undefined || map.length < end - chunkStart) {
        // Map the whole chunk, past the current end of a growing file too (never touched there: every read is
        // checked against a fresh fstat first), so a reader tailing a writer does not need a mapping per batch.
        if (end > this.size()) return null;
        const mapEnd = Math.min(chunkStart + this.chunkBytes, this.mapLimit);
        map = this.mapChunk(chunkStart, mapEnd);
        this.chunks[chunk] = map;
      }
      return map.subarray(offset - chunkStart, end - chunkStart);
    }
    // The range straddles chunks: give it a mapping of its own.
    const start = alignDown(offset);
    return this.map(start, end - start).subarray(offset - start, end - start);
  }

  /**
   * The chunk [start, end) mapped whole; when that does not fit (ENOMEM: `ulimit -v`, out of address space), only
   * its bytes the file holds now: a later read past them maps again. Failing that too, the IO error stands.
   */
  private mapChunk(start: number, end: number): Buffer {
    try {
      return this.map(start, end - start);
    } catch (err) {
      const held = Math.min(end, this.knownSize) - start;
      if (!(err instanceof StorageError) || err.details.errno !== 'ENOMEM' || held >= end - start) throw err;
      return this.map(start, held);
    }
  }

  private map(start: number, length: number): Buffer {
    const fd = this.handle();
    if (fd === null) throw new Error(`${this.file} disappeared`);
    return mapFile(fd, length, start);
  }

  private copy(offset: number, length: number): Buffer {
    const fd = this.handle();
    if (fd === null) throw new Error(`${this.file} disappeared`);
    const buf = Buffer.allocUnsafe(length);
    const done = readAt(fd, buf, 0, length, offset);
    if (done < length) throw new Error(`${this.file}: unexpected end of file at ${offset + done}`);
    return buf;
  }

  /** Forgets the mappings (slices already handed out stay valid: the GC unmaps them) and closes the fd. */
  close(): void {
    this.chunks.length = 0;
    if (this.fd !== null) {
      fs.closeSync(this.fd);
      this.fd = null;
    }
    this.knownSize = 0;
  }
}
