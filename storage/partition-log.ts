// One partition of a topic in the native format: a sequence of segments, appended to under the writer lock
// (held as a lease, see writer-lock.ts) and read without any lock through memory mappings.
//
// Commit protocol of a batch (per segment it touches): metadata bytes, data bytes, then the index entries in one
// write. An event exists once its whole index entry is on disk with a matching CRC; readers only ever look at
// bytes that such an entry covers, so they never see a half-written event.
import fs from 'node:fs';
import path from 'node:path';
import { crc32, crc32Pieces } from './crc.js';
import {
  ENTRY_SIZE, HOST_IS_LE, allocEntryBuffer, encodeEntry, encodeEntryWords, entryDataCrc, entryDataLength, entryDataOffset, entryMetaCrc, entryMetaLength,
  entryMetaOffset, entryTimestamp,
} from './index-entry.js';
import { DataCheckRun, metadataRunIntact } from './run-checks.js';
import { Segment } from './segment.js';
import { fsyncDir, listSegmentBases, segmentPaths } from './segment-files.js';
import { WriterLock, DEFAULT_LOCK_STALE_MS, MAX_HOLD_MS, sleepSync } from './writer-lock.js';
import { repairTail, mergeReports } from './recovery.js';
import { CommitWatcher, signalLocalCommit } from './commit-watcher.js';
import { verifyPartition } from './partition-verify.js';
import {
  StorageError, type AppendEvent, type AppendResult, type FlushBehavior, type PartitionLogLike, type PartitionOptions,
  type PartitionStats, type RecoveryReport, type StoredEvent, type VerifyProblem,
} from './types.js';

export const DEFAULT_SEGMENT_BYTES = 256 * 1024 * 1024;
export const MAX_SEGMENT_BYTES = 1024 * 1024 * 1024;
/** Largest metadata or data part of one event: more could not be mapped safely. */
export const MAX_EVENT_PART_BYTES = 1024 * 1024 * 1024;
/** writev() takes at most IOV_MAX (1024 on Linux) pieces per call. */
const IOV_MAX = 1024;
/** Pause after a forced lease rotation so that a writer waiting in another process can take the lock. */
const ROTATION_GAP_MS = 1;
const FLUSH_BEHAVIORS: readonly FlushBehavior[] = ['buffered', 'on_flush', 'immediate'];
const EMPTY = new Uint8Array(0);

export interface ResolvedPartitionOptions {
  flushBehavior: FlushBehavior;
  segmentBytes: number;
  lockStaleMs: number;
  verifyData: boolean;
}

/** Checks options (TypeError for wrong types, BAD_CONFIG for bad values) and fills in defaults. */
export function resolvePartitionOptions(opts: PartitionOptions = {}): ResolvedPartitionOptions {
  if (opts === null || typeof opts !== 'object') throw new TypeError('partition options must be an object');
  const flushBehavior = opts.flushBehavior ?? 'buffered';
  if (typeof flushBehavior !== 'string') throw new TypeError('flushBehavior must be a string');
  if (!FLUSH_BEHAVIORS.includes(flushBehavior)) {
    throw new StorageError('BAD_CONFIG', `Invalid flush_behavior: ${flushBehavior}. Valid values are: ${FLUSH_BEHAVIORS.join(', ')}`);
  }
  const segmentBytes = opts.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
  if (typeof segmentBytes !== 'number') throw new TypeError('segmentBytes must be a number');
  if (!Number.isInteger(segmentBytes) || segmentBytes < 1 || segmentBytes > MAX_SEGMENT_BYTES) {
    throw new StorageError('BAD_CONFIG', `segmentBytes must be an integer in [1, ${MAX_SEGMENT_BYTES}], got ${segmentBytes}`);
  }
  const lockStaleMs = opts.lockStaleMs ?? DEFAULT_LOCK_STALE_MS;
  if (typeof lockStaleMs !== 'number') throw new TypeError('lockStaleMs must be a number');
  if (!Number.isFinite(lockStaleMs) || lockStaleMs <= 0) {
    throw new StorageError('BAD_CONFIG', `lockStaleMs must be a positive number of ms, got ${lockStaleMs}`);
  }
  const verifyData = opts.verifyData ?? true;
  if (typeof verifyData !== 'boolean') throw new TypeError('verifyData must be a boolean');
  return { flushBehavior, segmentBytes, lockStaleMs, verifyData };
}

/** A committed event: byte arrays are slices of the mapped segment files (no copy). */
export class NativeStoredEvent implements StoredEvent {
  private verified = false;
  constructor(
    readonly id: number,
    readonly timestamp: number,
    readonly metadata: Uint8Array,
    readonly dataSize: number,
    private readonly segment: Segment,
    private readonly dataOffset: number,
    private readonly dataCrc: number,
    private readonly verifyData: boolean,
    /** The readRange() run this event belongs to (checks data a window at a time); null for read(). */
    private readonly run: DataCheckRun | null = null,
  ) {}

  data(): Uint8Array {
    const bytes = this.dataUnverified();
    if (this.verifyData && !this.verified) this.check(bytes);
    return bytes;
  }

  dataSlice(offset: number, size: number): Uint8Array {
    if (!(offset >= 0 && size >= 0 && offset + size <= this.dataSize)) {
      throw new RangeError(`slice [${offset}, ${offset + size}) is outside the ${this.dataSize} data bytes of event ${this.id}`);
    }
    if (this.verifyData && !this.verified) this.check(null);
    return this.view(offset, size);
  }

  /** Checks the data checksum, through the run's window when it covers this event. */
  private check(bytes: Uint8Array | null): void {
    if (this.run !== null && this.run.covers(this.id - this.segment.baseId)) this.verified = true;
    else this.verify(bytes ?? this.dataUnverified());
  }

  private verify(bytes: Uint8Array): void {
    if (crc32(bytes) !== this.dataCrc) {
      throw new StorageError('CORRUPTION', `data of event ${this.id} fails its checksum (${this.segment.paths.data} at offset ${this.dataOffset})`, {
        file: this.segment.paths.data, offset: this.dataOffset, id: this.id,
      });
    }
    this.verified = true;
  }

  /** The data slice without checking its CRC (for callers that verify elsewhere or not at all). */
  dataUnverified(): Uint8Array {
    return this.view(0, this.dataSize);
  }

  /** Bytes [offset, offset + size) of the data as a view of the mapping (the whole data part is mapped first). */
  private view(offset: number, size: number): Uint8Array {
    if (size === 0) return EMPTY;
    const map = this.segment.data.cover(this.dataOffset + this.dataSize);
    // A plain Uint8Array view of the mapping (cheaper to make than Buffer#subarray; same memory).
    return new Uint8Array(map.buffer, map.byteOffset + this.dataOffset + offset, size);
  }
}

/** Write descriptors of the segment this process appends to. */
interface WriteTarget {
  segment: Segment;
  metaFd: number;
  dataFd: number;
  indexFd: number;
  dirty: boolean;
}

function validateId(name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number, got ${typeof value}`);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new StorageError('OUT_OF_RANGE', `${name} must be a non-negative integer, got ${value}`);
  }
}

/** Writes bytes [0, length) of `bytes` at `position`, looping over short writes. */
function writeAll(fd: number, bytes: Uint8Array, position: number, length = bytes.length): void {
  let done = 0;
  while (done < length) {
    done += fs.writeSync(fd, bytes, done, length - done, position + done);
  }
}

/** Below this total, a run's pieces are copied into a staging buffer and written with one write. */
const STAGE_LIMIT = 1024 * 1024;
const stages: Buffer[] = [Buffer.allocUnsafeSlow(64 * 1024), Buffer.allocUnsafeSlow(64 * 1024)];

/** Staging buffer `which` (0: metadata, 1: data) with room for `bytes`. */
function staging(which: 0 | 1, bytes: number): Buffer {
  let b = stages[which]!;
  if (b.length < bytes) {
    b = Buffer.allocUnsafeSlow(Math.min(STAGE_LIMIT, Math.max(bytes, b.length * 2)));
    stages[which] = b;
  }
  return b;
}

/** Writes `pieces` back to back at `position` with as few writev calls as IOV_MAX allows. */
function writePieces(fd: number, pieces: Uint8Array[], total: number, position: number): void {
  if (total === 0) return;
  if (pieces.length === 1) return writeAll(fd, pieces[0]!, position);
  for (let i = 0; i < pieces.length; i += IOV_MAX) {
    const chunk = pieces.length <= IOV_MAX ? pieces : pieces.slice(i, i + IOV_MAX);
    let chunkBytes = 0;
    for (const p of chunk) chunkBytes += p.length;
    let written = fs.writevSync(fd, chunk, position);
    if (written < chunkBytes) {
      // A short write (huge batch, signal): finish the chunk piece by piece.
      let skip = written;
      for (const p of chunk) {
        if (skip >= p.length) {
          skip -= p.length;
          continue;
        }
        writeAll(fd, p.subarray(skip), position + written);
        written += p.length - skip;
        skip = 0;
      }
    }
    position += chunkBytes;
  }
}

export class PartitionLog implements PartitionLogLike {
  readonly dir: string;
  readonly index: number;
  readonly options: ResolvedPartitionOptions;
  /** What crash recovery dropped (on open or when a dead writer's lock was reclaimed); null if nothing. */
  recovery: RecoveryReport | null = null;
  private segments: Segment[] = [];
  private readonly firstBase: number;
  private lastUsed: Segment | null = null;
  private readonly lock: WriterLock;
  private writeTarget: WriteTarget | null = null;
  private lastTimestamp = 0;
  private watcher: CommitWatcher | null = null;
  private closed = false;
  // Scratch space reused by every append (no per-batch allocation of sizes or index entries).
  private metaLens = new Float64Array(256);
  private dataLens = new Float64Array(256);
  private entries = allocEntryBuffer(256 * ENTRY_SIZE);

  private constructor(dir: string, index: number, options: ResolvedPartitionOptions) {
    this.dir = dir;
    this.index = index;
    this.options = options;
    this.lock = new WriterLock(dir);
    const bases = listSegmentBases(dir);
    this.firstBase = bases[0] ?? 0;
    for (let i = 0; i < bases.length; i++) {
      const seg = new Segment(dir, bases[i]!);
      if (i + 1 < bases.length) seg.seal(bases[i + 1]! - bases[i]!);
      this.segments.push(seg);
    }
  }

  /**
   * Opens (creating the folder if needed) partition `index` stored in `dir`. If no other writer is active,
   * a torn tail left by a crash is cut first and reported in `recovery`.
   */
  static open(dir: string, index = 0, opts: PartitionOptions = {}): PartitionLog {
    if (typeof dir !== 'string') throw new TypeError('partition dir must be a string');
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0) throw new TypeError('partition index must be a non-negative integer');
    const options = resolvePartitionOptions(opts);
    const absDir = path.resolve(dir);
    fs.mkdirSync(absDir, { recursive: true });
    const log = new PartitionLog(absDir, index, options);
    if (log.lock.tryAcquire()) {
      try {
        log.syncUnderLock();
      } finally {
        log.lock.release();
      }
    } else {
      log.refresh();
    }
    return log;
  }

  get startId(): number {
    return this.firstBase;
  }

  get endId(): number {
    const last = this.segments[this.segments.length - 1];
    return last === undefined ? this.firstBase : last.endId;
  }

  /** Number of segments currently known. */
  get segmentCount(): number {
    return this.segments.length;
  }

  refresh(): number {
    this.assertOpen();
    for (;;) {
      const last = this.segments[this.segments.length - 1];
      if (last !== undefined && last.catchUp() > 0) continue;
      // Nothing new in the last segment: has a writer rolled over to a new one? (Writers only roll away from a
      // non-empty segment, so an empty last segment cannot have a successor.)
      if (last !== undefined && last.count === 0) break;
      const nextBase = last === undefined ? this.firstBase : last.endId;
      if (!fs.existsSync(segmentPaths(this.dir, nextBase).index)) break;
      if (last !== undefined) last.seal(last.count);
      const seg = new Segment(this.dir, nextBase);
      this.segments.push(seg);
    }
    return this.endId;
  }

  // ---------------------------------------------------------------- writing

  append(events: readonly AppendEvent[]): AppendResult {
    this.assertOpen();
    if (!Array.isArray(events)) throw new TypeError('append() takes an array of events');
    const n = events.length;
    if (this.metaLens.length < n) {
      this.metaLens = new Float64Array(n);
      this.dataLens = new Float64Array(n);
    }
    const metaLens = this.metaLens;
    const dataLens = this.dataLens;
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
    if (n === 0) return { firstId: this.refresh(), count: 0 };

    this.ensureLease();
    const firstId = this.endId;
    try {
      let i = 0;
      while (i < n) {
        const target = this.writableTarget();
        const seg = target.segment;
        let size = seg.metaEnd() + seg.dataEnd();
        let j = i;
        while (j < n) {
          const add = metaLens[j]! + dataLens[j]!;
          if (seg.count + (j - i) > 0 && size + add > this.options.segmentBytes) break;
          size += add;
          j++;
        }
        if (j === i) {
          this.roll(target);
          continue;
        }
        this.writeRun(target, events, metaLens, dataLens, i, j);
        i = j;
        this.lock.assertStillOurs();
      }
    } catch (err) {
      this.abortAfterFailedWrite();
      if (err instanceof StorageError) throw err;
      throw new StorageError('IO', `append to ${this.dir} failed: ${(err as Error).message}`, { file: this.dir, cause: err });
    } finally {
      this.lock.touchLease();
    }
    signalLocalCommit(this.dir);
    return { firstId, count: n };
  }

  flush(): void {
    this.assertOpen();
    if (this.options.flushBehavior === 'buffered') return;
    const t = this.writeTarget;
    if (t !== null && t.dirty) {
      fs.fdatasyncSync(t.dataFd);
      fs.fdatasyncSync(t.metaFd);
      fs.fdatasyncSync(t.indexFd);
      t.dirty = false;
    }
  }

  /** Takes the writer lock unless this process holds a fresh lease; re-reads the committed end when taking it. */
  private ensureLease(): void {
    if (this.lock.isHeld) {
      const now = Date.now();
      if (this.lock.heldFor(now) < MAX_HOLD_MS) return;
      // Held long enough: hand it over (other processes may be waiting), then queue again.
      const ours = this.lock.stillOurs(now);
      this.lock.release();
      if (ours) sleepSync(ROTATION_GAP_MS);
    }
    this.lock.acquire();
    try {
      this.syncUnderLock();
    } catch (err) {
      this.lock.release();
      throw err;
    }
  }

  /** With the lock held: catch up with other writers' commits and cut a torn tail a dead writer left. */
  private syncUnderLock(): void {
    this.refresh();
    const last = this.segments[this.segments.length - 1];
    if (last === undefined) return;
    if (this.writeTarget !== null && this.writeTarget.segment !== last) this.closeWriteTarget();
    this.recovery = mergeReports(this.recovery, repairTail(last));
    // Timestamps never decrease within a partition: findByTime relies on it.
    this.lastTimestamp = Math.max(this.lastTimestamp, last.lastTimestamp() ?? 0);
  }

  private writableTarget(): WriteTarget {
    if (this.writeTarget !== null) return this.writeTarget;
    let seg = this.segments[this.segments.length - 1];
    if (seg === undefined) seg = this.createSegment(this.firstBase);
    // Positional writes: never O_APPEND (Linux ignores the position then). Recreate a missing file.
    const open = (file: string): number => fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT);
    const metaFd = open(seg.paths.meta);
    const dataFd = open(seg.paths.data);
    const indexFd = open(seg.paths.index);
    this.writeTarget = { segment: seg, metaFd, dataFd, indexFd, dirty: false };
    return this.writeTarget;
  }

  /** Creates the files of a new last segment (metadata and data first: the index file is what makes it exist). */
  private createSegment(baseId: number): Segment {
    const paths = segmentPaths(this.dir, baseId);
    fs.closeSync(fs.openSync(paths.meta, 'w'));
    fs.closeSync(fs.openSync(paths.data, 'w'));
    try {
      fs.closeSync(fs.openSync(paths.index, 'wx'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      throw new StorageError('CORRUPTION', `segment ${paths.index} already exists although the log ends before it`, {
        file: paths.index, offset: 0,
      });
    }
    if (this.options.flushBehavior !== 'buffered') fsyncDir(this.dir);
    const seg = new Segment(this.dir, baseId);
    const last = this.segments[this.segments.length - 1];
    if (last !== undefined) last.seal(last.count);
    this.segments.push(seg);
    return seg;
  }

  private roll(target: WriteTarget): void {
    this.closeWriteTarget();
    this.createSegment(target.segment.endId);
  }

  private closeWriteTarget(): void {
    const t = this.writeTarget;
    if (t === null) return;
    this.writeTarget = null;
    try {
      if (t.dirty && this.options.flushBehavior !== 'buffered') {
        fs.fdatasyncSync(t.dataFd);
        fs.fdatasyncSync(t.metaFd);
        fs.fdatasyncSync(t.indexFd);
      }
    } finally {
      fs.closeSync(t.metaFd);
      fs.closeSync(t.dataFd);
      fs.closeSync(t.indexFd);
    }
  }

  /** Writes events [from, to) into the target segment: metadata, data, then the index entries (the commit). */
  private writeRun(
    target: WriteTarget, events: readonly AppendEvent[], metaLens: Float64Array, dataLens: Float64Array, from: number, to: number,
  ): void {
    const seg = target.segment;
    const k = to - from;
    const metaStart = seg.metaEnd();
    const dataStart = seg.dataEnd();
    let metaTotal = 0;
    let dataTotal = 0;
    for (let i = from; i < to; i++) {
      metaTotal += metaLens[i]!;
      dataTotal += dataLens[i]!;
    }
    if (this.entries.buf.length < k * ENTRY_SIZE) this.entries = allocEntryBuffer(k * ENTRY_SIZE);
    const { buf: entries, words } = this.entries;
    // Small runs are gathered into staging buffers (one write each); big ones go out with writev, uncopied.
    const metaStage = metaTotal <= STAGE_LIMIT ? staging(0, metaTotal) : null;
    const dataStage = dataTotal <= STAGE_LIMIT ? staging(1, dataTotal) : null;
    const metaPieces: Uint8Array[] | null = metaStage === null ? [] : null;
    const dataPieces: Uint8Array[] | null = dataStage === null ? [] : null;
    const now = Date.now();
    let metaPos = 0;
    let dataPos = 0;
    let ts = this.lastTimestamp;
    for (let i = from; i < to; i++) {
      const ev = events[i]!;
      const meta = ev.metadata;
      if (metaStage !== null) metaStage.set(meta, metaPos);
      else if (meta.length > 0) metaPieces!.push(meta);
      const data = ev.data;
      let dataCrc = 0;
      if (data instanceof Uint8Array) {
        if (dataStage !== null) dataStage.set(data, dataPos);
        else if (data.length > 0) dataPieces!.push(data);
        dataCrc = crc32(data);
      } else if (data !== undefined) {
        let at = dataPos;
        for (const piece of data) {
          if (dataStage !== null) dataStage.set(piece, at);
          else if (piece.length > 0) dataPieces!.push(piece);
          at += piece.length;
        }
        dataCrc = crc32Pieces(data);
      }
      const evTs = ev.timestamp === undefined ? now : Math.floor(ev.timestamp);
      if (evTs > ts) ts = evTs;
      const at = (i - from) * ENTRY_SIZE;
      const metaLen = metaLens[i]!;
      const dataLen = dataLens[i]!;
      if (HOST_IS_LE) encodeEntryWords(words, at >>> 2, metaStart + metaPos, dataStart + dataPos, metaLen, dataLen, ts, crc32(meta), dataCrc);
      else encodeEntry(entries, at, metaStart + metaPos, dataStart + dataPos, metaLen, dataLen, ts, crc32(meta), dataCrc);
      metaPos += metaLen;
      dataPos += dataLen;
    }
    if (metaStage !== null) writeAll(target.metaFd, metaStage, metaStart, metaTotal);
    else writePieces(target.metaFd, metaPieces!, metaTotal, metaStart);
    if (dataStage !== null) writeAll(target.dataFd, dataStage, dataStart, dataTotal);
    else writePieces(target.dataFd, dataPieces!, dataTotal, dataStart);
    const immediate = this.options.flushBehavior === 'immediate';
    if (immediate) {
      // Bytes first, then the commit record: an fsynced entry never points at bytes that were lost.
      fs.fdatasyncSync(target.dataFd);
      fs.fdatasyncSync(target.metaFd);
    }
    writeAll(target.indexFd, entries, seg.count * ENTRY_SIZE, k * ENTRY_SIZE);
    if (immediate) fs.fdatasyncSync(target.indexFd);
    else target.dirty = true;
    seg.committed(entries, k);
    this.lastTimestamp = ts;
  }

  /** After a failed write: cut what was not committed (best effort) and give up the lease so that state is re-read. */
  private abortAfterFailedWrite(): void {
    try {
      if (this.lock.isHeld) {
        const last = this.segments[this.segments.length - 1];
        if (last !== undefined) {
          last.catchUp();
          this.recovery = mergeReports(this.recovery, repairTail(last));
        }
      }
    } catch {
      // The next writer's recovery will cut the tail.
    }
    try {
      this.closeWriteTarget();
    } catch {
      // Descriptors are gone either way.
    }
    this.lock.release();
  }

  // ---------------------------------------------------------------- reading

  private segmentFor(id: number): Segment {
    const cached = this.lastUsed;
    if (cached !== null && id >= cached.baseId && id < cached.endId) {
      cached.ensureCached(id - cached.baseId);
      return cached;
    }
    const segs = this.segments;
    let lo = 0;
    let hi = segs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (segs[mid]!.baseId <= id) lo = mid;
      else hi = mid - 1;
    }
    const seg = segs[lo]!;
    if (seg.sealedCount !== null && seg.count < seg.sealedCount) seg.catchUp();
    if (id >= seg.endId) {
      throw new StorageError('CORRUPTION', `index entry of event ${id} is missing or damaged in ${seg.paths.index}`, {
        file: seg.paths.index, offset: (id - seg.baseId) * ENTRY_SIZE, id,
      });
    }
    seg.ensureCached(id - seg.baseId);
    this.lastUsed = seg;
    return seg;
  }

  read(id: number): StoredEvent {
    this.assertOpen();
    validateId('id', id);
    if (id >= this.endId && id >= this.refresh()) {
      throw new StorageError('OUT_OF_RANGE', `event ${id} does not exist yet (end of partition ${this.index} is ${this.endId})`, { id });
    }
    if (id < this.firstBase) throw new StorageError('OUT_OF_RANGE', `event ${id} is before the first stored event ${this.firstBase}`, { id });
    return this.eventAt(this.segmentFor(id), id);
  }

  readRange(from: number, max: number): StoredEvent[] {
    this.assertOpen();
    validateId('from', from);
    if (typeof max !== 'number') throw new TypeError('max must be a number');
    if (!Number.isInteger(max) || max < 0) throw new StorageError('OUT_OF_RANGE', `max must be a non-negative integer, got ${max}`);
    if (from < this.firstBase) throw new StorageError('OUT_OF_RANGE', `event ${from} is before the first stored event ${this.firstBase}`, { id: from });
    let end = this.endId;
    if (from + max > end) end = this.refresh();
    if (from > end) throw new StorageError('OUT_OF_RANGE', `event ${from} is past the end ${end}`, { id: from });
    const stop = Math.min(end, from + max);
    const out: StoredEvent[] = new Array(stop - from);
    let id = from;
    while (id < stop) {
      const seg = this.segmentFor(id);
      const segStop = Math.min(stop, seg.endId);
      seg.ensureCached(segStop - 1 - seg.baseId);
      const runEnd = segStop - seg.baseId;
      const run = this.options.verifyData && segStop - id > 1 ? new DataCheckRun(seg, runEnd) : null;
      // Metadata checked for the whole run at once; if anything is off, event by event (which names the culprit).
      const metadataChecked = segStop - id > 1 && metadataRunIntact(seg, id - seg.baseId, runEnd);
      for (; id < segStop; id++) out[id - from] = this.eventAt(seg, id, run, metadataChecked);
    }
    return out;
  }

  private eventAt(seg: Segment, id: number, run: DataCheckRun | null = null, metadataChecked = false): NativeStoredEvent {
    const pos = id - seg.baseId;
    const at = pos * ENTRY_SIZE;
    const buf = seg.index;
    if (seg.bad !== null && seg.bad.has(pos)) {
      throw new StorageError('CORRUPTION', `index entry of event ${id} fails its checksum (${seg.paths.index} at offset ${at})`, {
        file: seg.paths.index, offset: at, id,
      });
    }
    const metaOffset = entryMetaOffset(buf, at);
    const metaLength = entryMetaLength(buf, at);
    let metadata: Uint8Array = EMPTY;
    if (metaLength > 0) {
      // A plain Uint8Array view: cheaper to make than Buffer#subarray, and decoded twice as fast by TextDecoder.
      const map = seg.meta.cover(metaOffset + metaLength);
      metadata = new Uint8Array(map.buffer, map.byteOffset + metaOffset, metaLength);
    }
    if (!metadataChecked && crc32(metadata) !== entryMetaCrc(buf, at)) {
      throw new StorageError('CORRUPTION', `metadata of event ${id} fails its checksum (${seg.paths.meta} at offset ${metaOffset})`, {
        file: seg.paths.meta, offset: metaOffset, id,
      });
    }
    return new NativeStoredEvent(
      id, entryTimestamp(buf, at), metadata, entryDataLength(buf, at), seg, entryDataOffset(buf, at), entryDataCrc(buf, at),
      this.options.verifyData, run,
    );
  }

  findByTime(ms: number): number {
    this.assertOpen();
    if (typeof ms !== 'number' || Number.isNaN(ms)) throw new TypeError('findByTime() takes a number of ms');
    this.refresh();
    // Segments by the timestamp of their first entry, then entries within the chosen one.
    let lo = 0;
    let hi = this.segments.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const seg = this.segments[mid]!;
      seg.ensureLoaded();
      const last = seg.lastTimestamp();
      if (last === null || last < ms) lo = mid + 1;
      else hi = mid;
    }
    if (lo === this.segments.length) return this.endId;
    const seg = this.segments[lo]!;
    seg.ensureLoaded();
    let a = 0;
    let b = seg.count;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (entryTimestamp(seg.index, mid * ENTRY_SIZE) < ms) a = mid + 1;
      else b = mid;
    }
    return seg.baseId + a;
  }

  waitForAppend(knownEnd: number, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    this.assertOpen();
    if (typeof knownEnd !== 'number') throw new TypeError('knownEnd must be a number');
    if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs)) throw new TypeError('timeoutMs must be a number');
    this.watcher ??= new CommitWatcher(this.dir);
    return this.watcher.wait(() => !this.closed && this.refresh() > knownEnd, timeoutMs, signal);
  }

  stats(): PartitionStats {
    this.assertOpen();
    this.refresh();
    let metadataBytes = 0;
    let dataBytes = 0;
    let firstTimestamp: number | null = null;
    for (const seg of this.segments) {
      seg.ensureLoaded();
      metadataBytes += seg.metaEnd();
      dataBytes += seg.dataEnd();
      if (firstTimestamp === null && seg.count > 0) firstTimestamp = entryTimestamp(seg.index, 0);
    }
    let lastTimestamp: number | null = null;
    for (let i = this.segments.length - 1; i >= 0 && lastTimestamp === null; i--) lastTimestamp = this.segments[i]!.lastTimestamp();
    return {
      firstId: this.startId, endId: this.endId, events: this.endId - this.startId, metadataBytes, dataBytes,
      segments: this.segments.length, firstTimestamp, lastTimestamp,
    };
  }

  verify(): VerifyProblem[] {
    this.assertOpen();
    return verifyPartition(this.dir);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.closeWriteTarget();
    } finally {
      this.lock.release();
      this.watcher?.close();
      for (const seg of this.segments) seg.close();
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new StorageError('CLOSED', `partition ${this.dir} is closed`);
  }
}
