// One segment as seen by this process: how many entries are committed, the last committed entry (where the
// next event's bytes go), a cache of index entries for reading (each entry's CRC checked when loaded) and lazy
// read-only mappings of the metadata and data files. A writer does not fill the cache: a process that only
// appends never holds the index in memory; reads load what they need with one pread.
import fs from 'node:fs';
import {
  ENTRY_SIZE, allocEntryBuffer, entriesAllValid, entryValidAt, entryMetaEnd, entryDataEnd, entryTimestamp,
} from './index-entry.js';
import { MappedFile } from './segment-reader.js';
import { segmentPaths, type SegmentPaths } from './segment-files.js';
import { StorageError } from './types.js';

export class Segment {
  readonly baseId: number;
  readonly paths: SegmentPaths;
  /** Committed entries: each one below is complete and either valid or listed in `bad`. */
  count = 0;
  /** Final entry count once a later segment exists (its base id minus ours); null for the last segment. */
  sealedCount: number | null = null;
  /** Marks the segment as complete (a later one exists): its files no longer need open descriptors. */
  seal(finalCount: number): void {
    this.sealedCount = finalCount;
    this.meta.seal();
    this.data.seal();
    this.closeIndexIfComplete();
  }

  private closeIndexIfComplete(): void {
    if (this.sealedCount !== null && this.count >= this.sealedCount && this.indexFd !== null) {
      fs.closeSync(this.indexFd);
      this.indexFd = null;
    }
  }
  /** Read cache: entries [0, cached) of the index file. */
  index: Buffer = Buffer.alloc(0);
  /** The read cache as aligned 32-bit words (same bytes as `index`): hot readers decode fields from it. */
  indexWords: Uint32Array = new Uint32Array(0);
  cached = 0;
  /** Positions of entries failing their CRC although valid entries follow (corruption, not a torn tail). */
  bad: Set<number> | null = null;
  /**
   * Set when the recovery point records more committed entries than the index holds valid ones at its end: the
   * first such position. Positions from here to `count` are in `bad` once cached (reads fail with CORRUPTION), and
   * the last-entry copy is stale (no writer may append: recovery refuses).
   */
  missingFrom: number | null = null;
  readonly meta: MappedFile;
  readonly data: MappedFile;
  /** Copy of the last committed entry (valid when count > 0). */
  private readonly last = Buffer.alloc(ENTRY_SIZE);
  private indexFd: number | null = null;
  private scratch = allocEntryBuffer(0);

  constructor(dir: string, baseId: number) {
    this.baseId = baseId;
    this.paths = segmentPaths(dir, baseId);
    this.meta = new MappedFile(this.paths.meta);
    this.data = new MappedFile(this.paths.data);
  }

  get endId(): number {
    return this.baseId + this.count;
  }

  private fd(): number | null {
    if (this.indexFd === null) {
      try {
        this.indexFd = fs.openSync(this.paths.index, 'r');
      } catch (cause) {
        if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw new StorageError('IO', `cannot open ${this.paths.index}`, { file: this.paths.index, cause });
      }
    }
    return this.indexFd;
  }

  private readInto(buf: Buffer, bufOffset: number, from: number, to: number): number {
    const fd = this.fd();
    if (fd === null) return from;
    let pos = from;
    while (pos < to) {
      const n = fs.readSync(fd, buf, bufOffset + (pos - from), to - pos, pos);
      if (n === 0) break;
      pos += n;
    }
    return pos;
  }

  /** Reads index entries committed (by any process) since the last call; returns how many were found. */
  catchUp(): number {
    const fd = this.fd();
    if (fd === null) return 0;
    const whole = Math.floor(fs.fstatSync(fd).size / ENTRY_SIZE);
    if (whole <= this.count) return 0;
    const from = this.count * ENTRY_SIZE;
    // New entries go straight into the read cache when it is complete so far, else into scratch space.
    const intoCache = this.cached === this.count;
    let buf: Buffer;
    let words: Uint32Array;
    let base: number;
    if (intoCache) {
      this.ensureCapacity(whole * ENTRY_SIZE);
      buf = this.index;
      words = this.indexWords;
      base = 0;
    } else {
      if (this.scratch.buf.length < whole * ENTRY_SIZE - from) this.scratch = allocEntryBuffer(whole * ENTRY_SIZE - from);
      buf = this.scratch.buf;
      words = this.scratch.words;
      base = -from;
    }
    const got = Math.floor(this.readInto(buf, from + base, from, whole * ENTRY_SIZE) / ENTRY_SIZE);
    let lastValid = this.count - 1;
    let invalid: number[] | null = null;
    // All of them at once (the usual case), else one by one to find the damaged ones and the torn tail.
    if (got - this.count > 1 && entriesAllValid(buf, words, this.count * ENTRY_SIZE + base, got - this.count)) lastValid = got - 1;
    else {
      for (let i = this.count; i < got; i++) {
        if (entryValidAt(buf, words, i * ENTRY_SIZE + base)) lastValid = i;
        else (invalid ??= []).push(i);
      }
    }
    if (invalid !== null) for (const i of invalid) if (i < lastValid) (this.bad ??= new Set()).add(i);
    const added = lastValid + 1 - this.count;
    if (added > 0) {
      buf.copy(this.last, 0, lastValid * ENTRY_SIZE + base, (lastValid + 1) * ENTRY_SIZE + base);
      this.count = lastValid + 1;
      if (intoCache) this.cached = this.count;
    }
    // A sealed segment read to its end needs its descriptor no more (a reader of a long partition would otherwise
    // hold one per segment it read, up to the process' limit).
    this.closeIndexIfComplete();
    return added;
  }

  /**
   * Drops the read cache and the mappings of a sealed segment a reader moved on from: a reader going through a long
   * partition keeps one segment's index in memory and mapped, not every one it read (48 bytes per event and two
   * mappings per segment otherwise, for the process' life). Entries are read and checked again, and the files
   * mapped again, if asked for; records already read keep their own fields and mappings.
   */
  releaseForReader(): void {
    if (this.sealedCount === null) return;
    this.meta.release();
    this.data.release();
    if (this.cached > 0) this.dropIndexCache();
  }

  /** Makes entry `pos` (and all before it) available in the read cache. */
  ensureCached(pos: number): void {
    if (pos < this.cached) return;
    const from = this.cached * ENTRY_SIZE;
    const to = this.count * ENTRY_SIZE;
    this.ensureCapacity(to);
    const got = Math.floor(this.readInto(this.index, from, from, to) / ENTRY_SIZE);
    if (!(got - this.cached > 1 && entriesAllValid(this.index, this.indexWords, this.cached * ENTRY_SIZE, got - this.cached))) {
      for (let i = this.cached; i < got; i++) {
        // These entries were committed; one failing now was damaged on disk since.
        if (!entryValidAt(this.index, this.indexWords, i * ENTRY_SIZE)) (this.bad ??= new Set()).add(i);
      }
    }
    for (let i = got; i < this.count; i++) (this.bad ??= new Set()).add(i);
    this.cached = this.count;
    this.closeIndexIfComplete();
  }

  /**
   * Learns how many entries a sealed segment holds and its last one (reading and checking its index once), without
   * keeping the entries cached unless they were: what stats() and the search of findByTime() need of every segment.
   */
  ensureCounted(): void {
    if (this.sealedCount === null || this.count >= this.sealedCount) return;
    const hadCache = this.cached > 0;
    this.catchUp();
    if (!hadCache) this.dropIndexCache();
  }

  /**
   * Position of the first entry with a timestamp >= `ms` (count if none), searched in the read cache; a sealed
   * segment's cache goes again afterwards unless a reader was using it (findByTime must not fill memory).
   */
  firstAtOrAfter(ms: number): number {
    const hadCache = this.cached > 0;
    this.ensureLoaded();
    let a = 0;
    let b = this.count;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (entryTimestamp(this.index, mid * ENTRY_SIZE) < ms) a = mid + 1;
      else b = mid;
    }
    if (!hadCache && this.sealedCount !== null) this.dropIndexCache();
    return a;
  }

  /** Forgets the read cache (entries are read and checked again if asked for). */
  dropIndexCache(): void {
    this.index = Buffer.alloc(0);
    this.indexWords = new Uint32Array(0);
    this.cached = 0;
  }

  /** Loads everything committed so far into the cache (sealed segments: once). */
  ensureLoaded(): void {
    if (this.sealedCount === null || this.count < this.sealedCount) this.catchUp();
    if (this.count > 0) this.ensureCached(this.count - 1);
    this.closeIndexIfComplete();
  }

  /** Records entries this process just wrote (bytes [0, k * ENTRY_SIZE) of `entries`). */
  committed(entries: Buffer, k: number): void {
    entries.copy(this.last, 0, (k - 1) * ENTRY_SIZE, k * ENTRY_SIZE);
    this.count += k;
  }

  private ensureCapacity(bytes: number): void {
    if (this.index.length >= bytes) return;
    const grown = allocEntryBuffer(Math.max(bytes, this.index.length * 2, 256 * ENTRY_SIZE));
    this.index.copy(grown.buf, 0, 0, this.cached * ENTRY_SIZE);
    this.index = grown.buf;
    this.indexWords = grown.words;
  }

  /** Where the next event's metadata goes (end of the last committed entry's metadata). */
  metaEnd(): number {
    return this.count === 0 ? 0 : entryMetaEnd(this.last, 0);
  }

  dataEnd(): number {
    return this.count === 0 ? 0 : entryDataEnd(this.last, 0);
  }

  lastTimestamp(): number | null {
    return this.count === 0 ? null : entryTimestamp(this.last, 0);
  }

  /** The bytes of committed entry `pos` (from the cache, else read from the file). */
  entryBytes(pos: number): Buffer {
    if (pos === this.count - 1) return this.last;
    if (pos < this.cached) return this.index.subarray(pos * ENTRY_SIZE, (pos + 1) * ENTRY_SIZE);
    const one = Buffer.alloc(ENTRY_SIZE);
    this.readInto(one, 0, pos * ENTRY_SIZE, (pos + 1) * ENTRY_SIZE);
    return one;
  }

  /**
   * Counts entries up to `count` as committed although the index does not hold them valid (the recovery point
   * says they were): they read as CORRUPTION instead of the log silently ending early.
   */
  extendTo(count: number): void {
    if (count <= this.count) return;
    this.missingFrom ??= this.count;
    if (this.cached === this.count) {
      // The read cache must not claim them: ensureCached re-reads them and marks them bad.
      this.cached = Math.min(this.cached, this.missingFrom);
    }
    this.count = count;
  }

  /**
   * Why committed entry `pos` cannot end the log: its checksum fails ('checksum'), or its bytes lie past the ends
   * of the metadata/data files ('past-end', possible after a power loss); null when it is intact.
   */
  tailEntryProblem(pos: number, metaSize: number, dataSize: number): 'checksum' | 'past-end' | null {
    if (this.bad?.has(pos)) return 'checksum';
    const e = this.entryBytes(pos);
    return entryMetaEnd(e, 0) > metaSize || entryDataEnd(e, 0) > dataSize ? 'past-end' : null;
  }

  /**
   * Drops trailing entries at positions >= `floor` whose bytes lie past the end of the metadata/data files (a
   * power loss kept the entry but not its bytes): they were never complete. Measures both files (one fstat each,
   * which the read that follows in this turn of the event loop trusts).
   */
  dropEntriesPastEnd(floor: number): void {
    if (this.count <= floor || this.missingFrom !== null) return;
    const metaSize = this.meta.size();
    const dataSize = this.data.size();
    let count = this.count;
    while (count > floor && this.tailEntryProblem(count - 1, metaSize, dataSize) === 'past-end') count--;
    this.truncateTo(count);
  }

  /** Forgets entries from `count` on (after a torn tail was cut). */
  truncateTo(count: number): void {
    if (count >= this.count) return;
    if (count > 0) this.entryBytes(count - 1).copy(this.last);
    this.count = count;
    this.cached = Math.min(this.cached, count);
    if (this.bad !== null) {
      for (const i of this.bad) if (i >= count) this.bad.delete(i);
      if (this.bad.size === 0) this.bad = null;
    }
  }

  /** retention: the segment was trimmed: descriptors closed, mappings kept for records already handed out. */
  retire(): void {
    if (this.indexFd !== null) fs.closeSync(this.indexFd);
    this.indexFd = null;
    this.meta.retire();
    this.data.retire();
  }

  close(): void {
    if (this.indexFd !== null) fs.closeSync(this.indexFd);
    this.indexFd = null;
    this.meta.close();
    this.data.close();
  }
}
