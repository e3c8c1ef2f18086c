// One segment as seen by this process: how many entries are committed, the last committed entry (where the
// next event's bytes go), a window of index entries cached for reading (each entry's CRC checked when loaded) and
// lazy read-only mappings of the metadata and data files. A writer does not fill the cache: a process that only
// appends never holds the index in memory. Counting the committed entries reads the index from its end (only a torn
// tail is not counted); entries below are checked when a read first loads them, a window at a time, so opening a
// long segment reads one window, and a reader keeps one window in memory however long the segment.
import fs from 'node:fs';
import { readAt } from './fs-helpers.js';
import {
  ENTRY_SIZE, ENTRY_WORDS, HOST_IS_LE, allocEntryBuffer, entriesAllValid, entryIsValid, entryValidAt, entryMetaEnd, entryDataEnd,
  entryTimestamp, wordsDataEnd, wordsMetaEnd,
} from './index-entry.js';
import { MappedFile } from './segment-reader.js';
import { segmentPaths, type SegmentPaths } from './segment-files.js';
import { StorageError } from './types.js';

/** Entries read and checked at a time (one native CRC call: index-entry.ts RUN_ENTRIES), and the cache's usual size. */
export const WINDOW_ENTRIES = 8192;
/** The first look for the last valid entry of a segment with more than a window of new entries (see catchUp). */
const TAIL_SCAN_ENTRIES = 256;

/**
 * Positions in [lo, hi) of the entries that fail their check, the entry of position `lo` being at byte `at` of `buf`;
 * null when all pass (one native CRC for all of them, entry by entry only when that fails).
 */
function failingEntries(buf: Buffer, words: Uint32Array, at: number, lo: number, hi: number): number[] | null {
  if (hi - lo > 1 && entriesAllValid(buf, words, at, hi - lo)) return null;
  let failing: number[] | null = null;
  for (let i = lo; i < hi; i++) if (!entryValidAt(buf, words, at + (i - lo) * ENTRY_SIZE)) (failing ??= []).push(i);
  return failing;
}

export class Segment {
  readonly baseId: number;
  readonly paths: SegmentPaths;
  /**
   * Committed entries: the last one is valid, those before it were written before it (the torn tail past it is not
   * counted). Each is checked when first loaded into the read cache; one failing then goes to `bad` (damage).
   */
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
  /**
   * Read cache: entries [cacheFrom, cached) of the index file, at bytes [0, (cached - cacheFrom) * ENTRY_SIZE) of
   * `index` (callers address entry `pos` at `(pos - cacheFrom) * ENTRY_SIZE`).
   */
  index: Buffer = Buffer.alloc(0);
  /** The read cache as aligned 32-bit words (same bytes as `index`): hot readers decode fields from it. */
  indexWords: Uint32Array = new Uint32Array(0);
  cacheFrom = 0;
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
  /** Copy of the last committed entry (valid when count > 0), also as words: the writer reads its ends per batch. */
  private readonly lastEntry = allocEntryBuffer(ENTRY_SIZE);
  private readonly last = this.lastEntry.buf;
  private indexFd: number | null = null;
  private scratch = allocEntryBuffer(0);

  constructor(dir: string, baseId: number) {
    this.last.fill(0); // allocEntryBuffer's memory is not zeroed
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
    return from + readAt(fd, buf, bufOffset, to - from, from);
  }

  /**
   * Counts index entries committed (by any process) since the last call; returns how many were found. The new
   * entries are scanned from the end, a window at a time, for the last valid one (those past it are a torn tail);
   * entries below the scanned windows are checked when first read. A few appended entries go straight into the read
   * cache when it ends where they start (a tailing reader reads them next).
   */
  catchUp(): number {
    const fd = this.fd();
    if (fd === null) return 0;
    const whole = Math.floor(fs.fstatSync(fd).size / ENTRY_SIZE);
    if (whole <= this.count) return 0;
    let lastValid = -1;
    // More new entries than a window (a segment opened, or a long burst by another writer): they cannot go into the
    // read cache, so only the last valid one is wanted here, and it is nearly always among the last few (a torn tail
    // is at most one batch). A short look first; windows below it only if all of it failed.
    let span = whole - this.count > WINDOW_ENTRIES ? TAIL_SCAN_ENTRIES : WINDOW_ENTRIES;
    for (let hi = whole; hi > this.count && lastValid < 0; ) {
      const lo = Math.max(this.count, hi - span);
      lastValid = this.scanNew(lo, hi);
      hi = lo;
      span = WINDOW_ENTRIES;
    }
    if (lastValid < 0) return 0;
    const added = lastValid + 1 - this.count;
    this.count = lastValid + 1;
    // A sealed segment read to its end needs its descriptor no more (a reader of a long partition would otherwise
    // hold one per segment it read, up to the process' limit).
    this.closeIndexIfComplete();
    return added;
  }

  /**
   * Reads uncounted entries [lo, hi) and returns the last valid one (-1 if none): those before it that fail are
   * damage (`bad`), those after it torn. Copies the last valid entry; into the read cache when it ends at `lo`.
   */
  private scanNew(lo: number, hi: number): number {
    const intoCache = lo === this.count && this.cached === lo && this.cacheRoom(lo, hi);
    let buf: Buffer;
    let words: Uint32Array;
    let base: number;
    if (intoCache) {
      if (this.cached === this.cacheFrom) this.moveWindow(lo, lo);
      this.ensureCapacity(hi - this.cacheFrom);
      buf = this.index;
      words = this.indexWords;
      base = -this.cacheFrom * ENTRY_SIZE;
    } else {
      if (this.scratch.buf.length < (hi - lo) * ENTRY_SIZE) this.scratch = allocEntryBuffer((hi - lo) * ENTRY_SIZE);
      buf = this.scratch.buf;
      words = this.scratch.words;
      base = -lo * ENTRY_SIZE;
    }
    const got = Math.floor(this.readInto(buf, lo * ENTRY_SIZE + base, lo * ENTRY_SIZE, hi * ENTRY_SIZE) / ENTRY_SIZE);
    const failing = failingEntries(buf, words, lo * ENTRY_SIZE + base, lo, got);
    // The failing entries at the end are the torn tail; those below the last valid entry are damage.
    let lastValid = got - 1;
    let k = failing === null ? -1 : failing.length - 1;
    for (; k >= 0 && failing![k] === lastValid; k--) lastValid--;
    if (lastValid < lo) return -1;
    for (let j = 0; j <= k; j++) this.markBad(failing![j]!);
    buf.copy(this.last, 0, lastValid * ENTRY_SIZE + base, (lastValid + 1) * ENTRY_SIZE + base);
    if (intoCache) this.cached = lastValid + 1;
    return lastValid;
  }

  /** Entries [lo, hi) can join the cache without moving it (it is empty, or they fit in its window). */
  private cacheRoom(lo: number, hi: number): boolean {
    const from = this.cached === this.cacheFrom ? lo : this.cacheFrom;
    return hi - from <= this.windowEntries();
  }

  /** Entries the cache holds before it moves: a window, or more if one read asked for more. */
  private windowEntries(): number {
    return Math.max(WINDOW_ENTRIES, this.index.length / ENTRY_SIZE);
  }

  /** A committed entry that fails its check, or that the index file no longer holds: damage, read as CORRUPTION. */
  private markBad(pos: number): void {
    (this.bad ??= new Set()).add(pos);
  }

  /**
   * Drops the read cache and the mappings of a sealed segment a reader moved on from: a reader going through a long
   * partition keeps one segment's index window in memory and mapped, not every one it read (two mappings per segment
   * otherwise, for the process' life). Entries are read and checked again, and the files mapped again, if asked for;
   * records already read keep their own fields and mappings.
   */
  releaseForReader(): void {
    if (this.sealedCount === null) return;
    this.meta.release();
    this.data.release();
    if (this.index.length > 0) this.dropIndexCache();
  }

  /**
   * Makes entries [from, to] (committed ones) available in the read cache, reading ahead to a window of
   * WINDOW_ENTRIES from `from`. Entries still cached from `from` on are kept; entries read are checked, and one
   * failing (or missing from the file) was damaged since it was committed: it goes to `bad`.
   */
  ensureCached(from: number, to = from): void {
    if (from >= this.cacheFrom && to < this.cached) return;
    const end = Math.min(this.count, Math.max(to + 1, from + WINDOW_ENTRIES));
    const keeps = from >= this.cacheFrom && from <= this.cached && this.cached > this.cacheFrom;
    if (!keeps) this.moveWindow(from, from);
    else if (end - this.cacheFrom > this.windowEntries()) this.moveWindow(from, this.cached);
    const readFrom = this.cached;
    if (end <= readFrom) return;
    this.ensureCapacity(end - this.cacheFrom);
    const rel = this.cacheFrom * ENTRY_SIZE;
    const got = Math.floor(this.readInto(this.index, readFrom * ENTRY_SIZE - rel, readFrom * ENTRY_SIZE, end * ENTRY_SIZE) / ENTRY_SIZE);
    for (const i of failingEntries(this.index, this.indexWords, readFrom * ENTRY_SIZE - rel, readFrom, got) ?? []) this.markBad(i);
    for (let i = Math.max(got, readFrom); i < end; i++) this.markBad(i);
    this.cached = end;
    this.closeIndexIfComplete();
  }

  /** Makes the cache start at `from`, keeping cached entries [from, keepTo) (moved to the front of the buffer). */
  private moveWindow(from: number, keepTo: number): void {
    if (from === this.cacheFrom && keepTo >= this.cached) return;
    if (keepTo > from) this.index.copyWithin(0, (from - this.cacheFrom) * ENTRY_SIZE, (keepTo - this.cacheFrom) * ENTRY_SIZE);
    this.cacheFrom = from;
    this.cached = Math.max(from, keepTo);
  }

  /**
   * Learns how many entries a sealed segment holds and its last one (reading the end of its index), without
   * filling the read cache: what stats() and the search of findByTime() need of every segment.
   */
  ensureCounted(): void {
    if (this.sealedCount === null || this.count >= this.sealedCount) return;
    const hadCache = this.index.length > 0;
    this.catchUp();
    if (!hadCache) this.dropIndexCache();
  }

  /**
   * Position of the first entry with a timestamp >= `ms` (count if none): a binary search reading single entries
   * (cached ones from the cache), so findByTime neither loads nor keeps a whole index.
   */
  firstAtOrAfter(ms: number): number {
    this.ensureCounted();
    let a = 0;
    let b = this.count;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (entryTimestamp(this.readEntry(mid), 0) < ms) a = mid + 1;
      else b = mid;
    }
    // The descriptor of a sealed segment is closed once, after the search (not after each entry read).
    this.closeIndexIfComplete();
    return a;
  }

  /** Forgets the read cache (entries are read and checked again if asked for). */
  dropIndexCache(): void {
    this.index = Buffer.alloc(0);
    this.indexWords = new Uint32Array(0);
    this.cacheFrom = 0;
    this.cached = 0;
  }

  /** Records entries this process just wrote (words [0, k * ENTRY_WORDS) of `entryWords`). */
  committed(entryWords: Uint32Array, k: number): void {
    // Twelve word copies: a plain loop the writer's optimized code inlines (Buffer#copy goes through its JS checks).
    const last = this.lastEntry.words;
    for (let w = 0, from = (k - 1) * ENTRY_WORDS; w < ENTRY_WORDS; w++) last[w] = entryWords[from + w]!;
    this.count += k;
  }

  /** Room for `entries` entries in the cache buffer (the cached ones copied over). */
  private ensureCapacity(entries: number): void {
    const bytes = entries * ENTRY_SIZE;
    if (this.index.length >= bytes) return;
    const grown = allocEntryBuffer(Math.max(bytes, Math.min(this.index.length * 2, WINDOW_ENTRIES * ENTRY_SIZE), 256 * ENTRY_SIZE));
    this.index.copy(grown.buf, 0, 0, (this.cached - this.cacheFrom) * ENTRY_SIZE);
    this.index = grown.buf;
    this.indexWords = grown.words;
  }

  /** Where the next event's metadata goes (end of the last committed entry's metadata). */
  metaEnd(): number {
    if (this.count === 0) return 0;
    const w = this.lastEntry.words;
    return HOST_IS_LE ? wordsMetaEnd(w, 0) : entryMetaEnd(this.last, 0);
  }

  dataEnd(): number {
    if (this.count === 0) return 0;
    const w = this.lastEntry.words;
    return HOST_IS_LE ? wordsDataEnd(w, 0) : entryDataEnd(this.last, 0);
  }

  lastTimestamp(): number | null {
    return this.count === 0 ? null : entryTimestamp(this.last, 0);
  }

  /** The bytes of committed entry `pos` (from the cache, else read from the file; not checked). */
  entryBytes(pos: number): Buffer {
    const e = this.readEntry(pos);
    this.closeIndexIfComplete();
    return e;
  }

  /** entryBytes() leaving the index descriptor open, for a caller reading several entries in a row. */
  private readEntry(pos: number): Buffer {
    if (pos === this.count - 1) return this.last;
    if (pos >= this.cacheFrom && pos < this.cached) {
      const at = (pos - this.cacheFrom) * ENTRY_SIZE;
      return this.index.subarray(at, at + ENTRY_SIZE);
    }
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
      this.cached = Math.max(this.cacheFrom, Math.min(this.cached, this.missingFrom));
    }
    this.count = count;
  }

  /**
   * Why committed entry `pos` cannot end the log: its checksum fails ('checksum'), or its bytes lie past the ends
   * of the metadata/data files ('past-end', possible after a power loss); null when it is intact.
   */
  tailEntryProblem(pos: number, metaSize: number, dataSize: number): 'checksum' | 'past-end' | null {
    const e = this.entryBytes(pos);
    // Entries below the scanned end of the index are checked when first read: this one maybe not yet.
    if (this.bad?.has(pos) || !entryIsValid(e, 0)) return 'checksum';
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
    this.cached = Math.max(this.cacheFrom, Math.min(this.cached, count));
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
