// One partition of a topic in the C++ reference's "files" layout (API.md 3.3): `index` (32-byte entries of four
// u64 LE: metadata offset, metadata size, data offset, data size), `metadata` (u64 LE length + JSON per record)
// and `data` (raw bytes). The index entry is the commit record: metadata and data are written first.
// There are no timestamps and no checksums in this format: timestamps read as 0, findByTime is UNSUPPORTED,
// and verify() checks structure only.
import fs from 'node:fs';
import path from 'node:path';
import {
  StorageError,
  type AppendEvent,
  type AppendResult,
  type FlushBehavior,
  type PartitionLogLike,
  type PartitionOptions,
  type PartitionStats,
  type RecoveryCut,
  type RecoveryReport,
  type StoredEvent,
  type VerifyProblem,
} from '../types.js';
import { MappedFileReader } from './mapped-file-reader.js';
import { MAX_HOLD_MS, MIN_LOCK_STALE_MS, WriterLock } from '../writer-lock.js';
import { resolvePartitionOptions } from '../partition-log.js';
import { CommitWatcher, signalLocalCommit } from '../commit-watcher.js';
import {
  DATA_FILE,
  INDEX_FILE,
  METADATA_FILE,
  METADATA_PREFIX_BYTES,
  REFERENCE_ENTRY_BYTES,
  decodeIndexEntry,
  encodeIndexEntry,
  readU64,
  writeU64,
  type ReferenceIndexEntry,
} from './reference-layout.js';

/** Largest metadata record or data part accepted by append (what one mapping can safely hold). */
export const MAX_REFERENCE_EVENT_PART_BYTES = 1024 * 1024 * 1024;
/** writev takes at most IOV_MAX (1024) buffers per call. */
const MAX_IOV = 1024;

/**
 * When opening may cut a torn tail (partial index entry, entries pointing past EOF, orphan bytes):
 * 'if-idle' only when no partition file changed for `lockStaleMs`, so that a tail a live C++ writer is
 * producing right now (it does not take our lock) is never cut; 'always'; 'never' (the default: detect and ignore only; a read-only open changes nothing).
 * In every mode readers never see a torn entry, and the next append repairs the tail under the writer lock.
 */
export type RepairOnOpen = 'if-idle' | 'always' | 'never';

export interface ReferencePartitionOptions extends PartitionOptions {
  repairOnOpen?: RepairOnOpen;
  /** Mapping chunk size and map limit of the file readers (tests use small values to reach the edge cases). */
  mapChunkBytes?: number;
  mapLimit?: number;
}

/** What recovery found; `truncated` says whether the files were cut (else the tail is only ignored). */
export interface ReferenceRecoveryReport extends RecoveryReport {
  truncated: boolean;
}

function isUint8Array(v: unknown): v is Uint8Array {
  return v instanceof Uint8Array;
}

function dataPieces(e: AppendEvent, i: number): readonly Uint8Array[] {
  const d = e.data;
  if (d === undefined) return [];
  if (isUint8Array(d)) return [d];
  if (Array.isArray(d) && d.every(isUint8Array)) return d;
  throw new TypeError(`events[${i}].data must be a Uint8Array or an array of Uint8Array`);
}

/** Writes all of `pieces` at `position`, in writev calls of at most IOV_MAX buffers, finishing short writes. */
function writeAllAt(fd: number, pieces: readonly Uint8Array[], position: number): void {
  let pos = position;
  let i = 0;
  while (i < pieces.length) {
    const group = pieces.slice(i, i + MAX_IOV).filter((p) => p.length > 0) as Uint8Array[];
    i += MAX_IOV;
    let want = group.reduce((s, p) => s + p.length, 0);
    while (want > 0) {
      const n = fs.writevSync(fd, group as NodeJS.ArrayBufferView[], pos);
      pos += n;
      want -= n;
      if (want === 0) break;
      // Short write: drop what was written and retry the rest.
      let skip = n;
      while (skip > 0 && group.length > 0) {
        const first = group[0]!;
        if (first.length <= skip) {
          skip -= first.length;
          group.shift();
        } else {
          group[0] = first.subarray(skip);
          skip = 0;
        }
      }
    }
  }
}

const EMPTY = new Uint8Array(0);

class ReferenceStoredEvent implements StoredEvent {
  readonly timestamp = 0;
  constructor(
    private readonly log: ReferencePartitionLog,
    readonly id: number,
    private readonly meta: Uint8Array,
    private readonly dataOffset: number,
    readonly dataSize: number,
    /** End of this event's record in the metadata file. */
    private readonly metadataEnd: number,
  ) {}
  /** The metadata slice, after checking the file still holds it (a consumer reads it long after readRange()). */
  get metadata(): Uint8Array {
    this.log.checkMetadataStillThere(this.id, this.metadataEnd);
    return this.meta;
  }
  data(): Uint8Array {
    return this.dataSize === 0 ? EMPTY : this.log.dataSlice(this.id, this.dataOffset, this.dataSize);
  }
}

interface TailScan {
  /** Whole entries in the index file. */
  entries: number;
  /** Entries up to and including the last one whose bytes exist and whose metadata prefix matches. */
  committed: number;
  indexBytes: number;
  metadataBytes: number;
  dataBytes: number;
  /** Where the last committed entry ends in metadata / data. */
  metadataEnd: number;
  dataEnd: number;
}

export class ReferencePartitionLog implements PartitionLogLike {
  readonly dir: string;
  readonly index: number;
  /** What crash recovery found at open or at a later append (null: the tail was clean). */
  recovery: ReferenceRecoveryReport | null = null;

  private readonly indexPath: string;
  private readonly metadataPath: string;
  private readonly dataPath: string;
  private readonly indexReader: MappedFileReader;
  private readonly metadataReader: MappedFileReader;
  private readonly dataReader: MappedFileReader;
  /** The native engine's lease-style writer lock (`writer.lock.d` in the partition folder). */
  private readonly lock: WriterLock;
  private watcher: CommitWatcher | null = null;
  private readonly flushBehavior: FlushBehavior;
  private readonly staleMs: number;
  private writeFds: { index: number; metadata: number; data: number } | null = null;
  private count = 0;
  private metadataEnd = 0;
  private dataEnd = 0;
  /** Index size at the last refresh whose tail was clean (-1: rescan next time). */
  private cleanIndexSize = -1;
  private closed = false;

  private constructor(dir: string, index: number, opts: ReferencePartitionOptions) {
    this.dir = dir;
    this.index = index;
    this.indexPath = path.join(dir, INDEX_FILE);
    this.metadataPath = path.join(dir, METADATA_FILE);
    this.dataPath = path.join(dir, DATA_FILE);
    const mapOpts = {
      ...(opts.mapChunkBytes !== undefined ? { chunkBytes: opts.mapChunkBytes } : {}),
      ...(opts.mapLimit !== undefined ? { mapLimit: opts.mapLimit } : {}),
    };
    this.indexReader = new MappedFileReader(this.indexPath, mapOpts);
    this.metadataReader = new MappedFileReader(this.metadataPath, mapOpts);
    this.dataReader = new MappedFileReader(this.dataPath, mapOpts);
    // Same option checks (TypeError / BAD_CONFIG) as native partitions; segmentBytes and verifyData do not apply.
    const resolved = resolvePartitionOptions(opts);
    this.flushBehavior = resolved.flushBehavior;
    this.staleMs = Math.max(resolved.lockStaleMs, MIN_LOCK_STALE_MS);
    this.lock = new WriterLock(dir);
  }

  /**
   * Opens partition `index` stored in `dir` (missing files read as empty and are created by the first append).
   * Detects a torn tail left by a crashed writer; cuts it per `repairOnOpen` when the writer lock is free.
   */
  static open(dir: string, index: number, opts: ReferencePartitionOptions = {}): ReferencePartitionLog {
    const mode = opts.repairOnOpen ?? 'never';
    if (!['if-idle', 'always', 'never'].includes(mode)) {
      throw new StorageError('BAD_CONFIG', `repairOnOpen must be "if-idle", "always" or "never", got ${JSON.stringify(mode)}`);
    }
    const log = new ReferencePartitionLog(dir, index, opts);
    try {
      log.openRecovery(mode);
    } catch (err) {
      log.close();
      throw err;
    }
    return log;
  }

  get endId(): number {
    return this.count;
  }

  get startId(): number {
    return 0;
  }

  // ---------------------------------------------------------------- tail detection and recovery

  /** Reads the files' sizes and finds the committed end (trailing entries whose bytes do not exist are torn). */
  private scanTail(knownCommitted: number): TailScan {
    const indexBytes = this.indexReader.size();
    const metadataBytes = this.metadataReader.size();
    const dataBytes = this.dataReader.size();
    const entries = Math.floor(indexBytes / REFERENCE_ENTRY_BYTES);
    let committed = entries;
    let last: ReferenceIndexEntry | null = null;
    const floor = Math.min(knownCommitted, entries);
    while (committed > floor) {
      last = this.tailEntryIfCommitted(committed - 1, metadataBytes, dataBytes);
      if (last !== null) break;
      committed--;
    }
    if (last === null && committed > 0) last = this.entryAt(committed - 1);
    return {
      entries,
      committed,
      indexBytes,
      metadataBytes,
      dataBytes,
      metadataEnd: last === null ? 0 : last.metadataOffset + last.metadataSize,
      dataEnd: last === null ? 0 : last.dataOffset + last.dataSize,
    };
  }

  private entryAt(id: number): ReferenceIndexEntry {
    const at = id * REFERENCE_ENTRY_BYTES;
    const buf = this.indexReader.slice(at, REFERENCE_ENTRY_BYTES);
    if (buf === null) {
      throw new StorageError('CORRUPTION', `${this.indexPath}: entry ${id} at offset ${at} is past the end of the file`, {
        file: this.indexPath,
        offset: at,
        id,
      });
    }
    return decodeIndexEntry(buf, 0, this.indexPath, at);
  }

  /** The entry if its records lie within the files and its metadata prefix matches; null if it is torn. */
  private tailEntryIfCommitted(id: number, metadataBytes: number, dataBytes: number): ReferenceIndexEntry | null {
    let e: ReferenceIndexEntry;
    try {
      e = this.entryAt(id);
    } catch (err) {
      if (err instanceof StorageError && err.code === 'CORRUPTION') return null;
      throw err;
    }
    if (e.metadataSize < METADATA_PREFIX_BYTES) return null;
    if (e.metadataOffset + e.metadataSize > metadataBytes || e.dataOffset + e.dataSize > dataBytes) return null;
    const prefix = this.metadataReader.slice(e.metadataOffset, METADATA_PREFIX_BYTES);
    if (prefix === null) return null;
    if (readU64(prefix, 0, this.metadataPath, e.metadataOffset) !== e.metadataSize - METADATA_PREFIX_BYTES) return null;
    return e;
  }

  /**
   * Under the writer lock, before cutting anything: CORRUPTION when entries this process saw committed are gone,
   * or when the last committed entry's records are no longer in the files (appending after it would leave a hole
   * that reads as zeros: this format has no checksums to catch it).
   */
  private refuseIfCommittedLost(scan: TailScan): void {
    if (scan.entries < this.count) {
      const at = scan.entries * REFERENCE_ENTRY_BYTES;
      throw this.corruption(this.indexPath, at, scan.entries, `the index holds ${scan.entries} entries but events up to ${this.count - 1} were committed; no append is accepted`);
    }
    if (scan.committed > 0 && (scan.metadataEnd > scan.metadataBytes || scan.dataEnd > scan.dataBytes)) {
      const [file, size] = scan.metadataEnd > scan.metadataBytes ? [this.metadataPath, scan.metadataBytes] : [this.dataPath, scan.dataBytes];
      throw this.corruption(file, size, scan.committed - 1, `committed event ${scan.committed - 1} ends past the end of the file (${size} bytes); no append is accepted`);
    }
  }

  private adopt(scan: TailScan): void {
    this.count = scan.committed;
    this.metadataEnd = scan.metadataEnd;
    this.dataEnd = scan.dataEnd;
    const clean = scan.committed === scan.entries && scan.indexBytes === scan.entries * REFERENCE_ENTRY_BYTES;
    this.cleanIndexSize = clean ? scan.indexBytes : -1;
  }

  /** Describes what lies past the committed end (null if nothing). */
  private describeTail(scan: TailScan): ReferenceRecoveryReport | null {
    const notes: string[] = [];
    const goodIndexBytes = scan.committed * REFERENCE_ENTRY_BYTES;
    let droppedEntries = 0;
    if (scan.indexBytes > goodIndexBytes) {
      droppedEntries = Math.ceil((scan.indexBytes - goodIndexBytes) / REFERENCE_ENTRY_BYTES);
      const partial = scan.indexBytes % REFERENCE_ENTRY_BYTES;
      notes.push(
        `${this.indexPath}: ${scan.indexBytes - goodIndexBytes} bytes from offset ${goodIndexBytes} ` +
          `(${scan.entries - scan.committed} entries pointing past the end of metadata/data` +
          (partial > 0 ? `, a partial entry of ${partial} bytes` : '') +
          ')',
      );
    }
    const cuts: RecoveryCut[] = [];
    if (scan.indexBytes > goodIndexBytes) {
      cuts.push({ file: this.indexPath, offset: goodIndexBytes, bytes: scan.indexBytes - goodIndexBytes, reason: 'partial entry or entries whose records are not complete' });
    }
    let droppedBytes = 0;
    if (scan.metadataBytes > scan.metadataEnd) {
      droppedBytes += scan.metadataBytes - scan.metadataEnd;
      notes.push(`${this.metadataPath}: ${scan.metadataBytes - scan.metadataEnd} orphan bytes from offset ${scan.metadataEnd}`);
      cuts.push({ file: this.metadataPath, offset: scan.metadataEnd, bytes: scan.metadataBytes - scan.metadataEnd, reason: 'bytes past the last committed record' });
    }
    if (scan.dataBytes > scan.dataEnd) {
      droppedBytes += scan.dataBytes - scan.dataEnd;
      notes.push(`${this.dataPath}: ${scan.dataBytes - scan.dataEnd} orphan bytes from offset ${scan.dataEnd}`);
      cuts.push({ file: this.dataPath, offset: scan.dataEnd, bytes: scan.dataBytes - scan.dataEnd, reason: 'bytes past the last committed record' });
    }
    if (notes.length === 0) return null;
    return {
      partition: this.index, firstCutId: droppedEntries > 0 ? scan.committed : null, droppedEntries, droppedBytes, notes, cuts, truncated: false,
    };
  }

  /** Cuts the files back to the committed end; the caller holds the writer lock. */
  private truncateTail(scan: TailScan): void {
    const cut = (file: string, size: number, to: number): void => {
      if (size > to) fs.truncateSync(file, to);
    };
    // Index first: once it is cut no entry refers to the bytes cut next.
    cut(this.indexPath, scan.indexBytes, scan.committed * REFERENCE_ENTRY_BYTES);
    cut(this.metadataPath, scan.metadataBytes, scan.metadataEnd);
    cut(this.dataPath, scan.dataBytes, scan.dataEnd);
  }

  private mergeRecovery(report: ReferenceRecoveryReport): void {
    if (this.recovery === null || !this.recovery.truncated) {
      this.recovery = report;
      return;
    }
    this.recovery = {
      partition: this.index,
      firstCutId: this.recovery.firstCutId ?? report.firstCutId,
      cuts: [...this.recovery.cuts, ...report.cuts],
      droppedEntries: this.recovery.droppedEntries + report.droppedEntries,
      droppedBytes: this.recovery.droppedBytes + report.droppedBytes,
      notes: [...this.recovery.notes, ...report.notes],
      truncated: true,
    };
  }

  private newestChangeMs(): number {
    let newest = 0;
    for (const f of [this.indexPath, this.metadataPath, this.dataPath]) {
      try {
        newest = Math.max(newest, fs.statSync(f).mtimeMs);
      } catch {
        // A missing file changed nothing.
      }
    }
    return newest;
  }

  /** One attempt at the writer lock; false when busy or when the folder cannot hold it (read-only copy). */
  private tryLockForRepair(): boolean {
    try {
      return this.lock.tryAcquire();
    } catch (err) {
      if (err instanceof StorageError && err.code === 'LOCK_FAILED') return false;
      throw err;
    }
  }

  private openRecovery(mode: RepairOnOpen): void {
    let scan = this.scanTail(0);
    this.adopt(scan);
    const tail = this.describeTail(scan);
    if (tail === null) return;
    const idle = Date.now() - this.newestChangeMs() >= this.staleMs;
    if (mode === 'always' || (mode === 'if-idle' && idle)) {
      if (this.tryLockForRepair()) {
        try {
          scan = this.scanTail(0); // a writer may have committed between the first look and the lock
          const report = this.describeTail(scan);
          if (report !== null) {
            this.truncateTail(scan);
            report.truncated = true;
          }
          this.adopt(scan);
          this.recovery = report;
          return;
        } finally {
          this.lock.release();
        }
      }
    }
    const why =
      mode === 'never'
        ? 'repairOnOpen is "never"'
        : idle || mode === 'always'
          ? 'the writer lock is busy or unavailable'
          : `files changed within the last ${this.staleMs} ms (a writer may be active)`;
    tail.notes.push(`left in place (${why}); readers ignore it; the next append cuts it under the writer lock`);
    this.recovery = tail;
  }

  // ---------------------------------------------------------------- reading

  refresh(): number {
    this.ensureOpen();
    const size = this.indexReader.size();
    if (size === this.cleanIndexSize) return this.count;
    if (size < this.count * REFERENCE_ENTRY_BYTES) {
      // Someone cut entries this process saw committed (outside our protocol): the end does not move back (reads
      // of the lost ids fail with CORRUPTION, slices are only taken below the measured sizes) and no append is
      // accepted, so their ids are never handed out again.
      return this.count;
    }
    this.adopt(this.scanTail(this.count));
    return this.count;
  }

  read(id: number): StoredEvent {
    this.ensureOpen();
    this.checkId(id);
    this.measureFiles();
    if (id >= this.count && id >= this.refresh()) {
      throw new StorageError('OUT_OF_RANGE', `event ${id} does not exist in partition ${this.index} (end ${this.count})`, {
        id,
        endId: this.count,
      });
    }
    const at = id * REFERENCE_ENTRY_BYTES;
    const buf = this.indexReader.slice(at, REFERENCE_ENTRY_BYTES);
    if (buf === null) throw this.corruption(this.indexPath, at, id, 'index entry past the end of the file');
    return this.eventFrom(id, buf, 0, at);
  }

  readRange(from: number, max: number): StoredEvent[] {
    this.ensureOpen();
    this.checkId(from);
    if (typeof max !== 'number' || !Number.isInteger(max) || max < 0) throw new TypeError('max must be a non-negative integer');
    this.measureFiles();
    if (from + max > this.count) this.refresh();
    const end = Math.min(this.count, from + max);
    if (end <= from) return [];
    const at = from * REFERENCE_ENTRY_BYTES;
    const buf = this.indexReader.slice(at, (end - from) * REFERENCE_ENTRY_BYTES);
    if (buf === null) throw this.corruption(this.indexPath, at, from, 'index entries past the end of the file');
    const out: StoredEvent[] = new Array(end - from);
    for (let id = from; id < end; id++) {
      const rel = (id - from) * REFERENCE_ENTRY_BYTES;
      out[id - from] = this.eventFrom(id, buf, rel, at + rel);
    }
    return out;
  }

  private eventFrom(id: number, buf: Uint8Array, rel: number, fileOffset: number): StoredEvent {
    const e = decodeIndexEntry(buf, rel, this.indexPath, fileOffset);
    if (e.metadataSize < METADATA_PREFIX_BYTES) {
      throw this.corruption(this.indexPath, fileOffset + 8, id, `metadata size ${e.metadataSize} is smaller than its 8-byte length prefix`);
    }
    const record = this.metadataReader.slice(e.metadataOffset, e.metadataSize);
    if (record === null) {
      throw this.corruption(this.metadataPath, e.metadataOffset, id, `metadata record of ${e.metadataSize} bytes points beyond the end of the file`);
    }
    const length = readU64(record, 0, this.metadataPath, e.metadataOffset);
    if (length !== e.metadataSize - METADATA_PREFIX_BYTES) {
      throw this.corruption(
        this.metadataPath,
        e.metadataOffset,
        id,
        `metadata length prefix ${length} does not match the index's record size ${e.metadataSize} - 8`,
      );
    }
    const dataEnd = e.dataOffset + e.dataSize;
    if (dataEnd > this.dataReader.cachedSize && dataEnd > this.dataReader.size()) {
      throw this.corruption(this.dataPath, e.dataOffset, id, `data of ${e.dataSize} bytes points beyond the end of the file`);
    }
    return new ReferenceStoredEvent(this, id, record.subarray(METADATA_PREFIX_BYTES), e.dataOffset, e.dataSize, e.metadataOffset + e.metadataSize);
  }

  /** @internal Data bytes of event `id` (a slice of the mapping; the file re-measured if the last fstat is old). */
  dataSlice(id: number, offset: number, size: number): Uint8Array {
    this.ensureOpen();
    const s = this.dataReader.sliceFresh(offset, size);
    if (s === null) throw this.corruption(this.dataPath, offset, id, `data of ${size} bytes points beyond the end of the file`);
    return s;
  }

  /** @internal CORRUPTION when the metadata file no longer holds bytes up to `end` (truncated by someone). */
  checkMetadataStillThere(id: number, end: number): void {
    if (!this.metadataReader.stillCovers(end)) {
      throw this.corruption(this.metadataPath, this.metadataReader.cachedSize, id, `the metadata file was truncated to ${this.metadataReader.cachedSize} bytes under a reader`);
    }
  }

  /** One fstat per file per read call: slices below are only taken within these sizes (no SIGBUS). */
  private measureFiles(): void {
    this.indexReader.size();
    this.metadataReader.size();
    this.dataReader.size();
  }

  findByTime(_ms: number): number {
    throw new StorageError('UNSUPPORTED', 'the reference files format stores no timestamps: seeking by time is not possible');
  }

  // ---------------------------------------------------------------- writing

  append(events: readonly AppendEvent[]): AppendResult {
    this.ensureOpen();
    if (!Array.isArray(events)) throw new TypeError('events must be an array');
    // Build everything before touching the disk, so that a bad event writes nothing.
    const metadataPieces: Uint8Array[] = [];
    const dataParts: Uint8Array[] = [];
    const sizes: Array<{ metadataSize: number; dataSize: number }> = [];
    let metadataTotal = 0;
    events.forEach((ev, i) => {
      if (ev === null || typeof ev !== 'object') throw new TypeError(`events[${i}] must be an object`);
      if (!isUint8Array(ev.metadata)) throw new TypeError(`events[${i}].metadata must be a Uint8Array`);
      // Checked as native partitions do, although this format has nowhere to store it.
      if (ev.timestamp !== undefined && (typeof ev.timestamp !== 'number' || !Number.isFinite(ev.timestamp) || ev.timestamp < 0)) {
        throw new TypeError(`events[${i}].timestamp must be a non-negative finite number of ms`);
      }
      const pieces = dataPieces(ev, i);
      const dataSize = pieces.reduce((s, p) => s + p.length, 0);
      if (ev.metadata.length > MAX_REFERENCE_EVENT_PART_BYTES || dataSize > MAX_REFERENCE_EVENT_PART_BYTES) {
        throw new StorageError('EVENT_TOO_LARGE', `events[${i}] is too large (metadata ${ev.metadata.length} B, data ${dataSize} B; limit ${MAX_REFERENCE_EVENT_PART_BYTES} B each)`);
      }
      const prefix = new Uint8Array(METADATA_PREFIX_BYTES);
      writeU64(prefix, 0, ev.metadata.length);
      metadataPieces.push(prefix, ev.metadata);
      for (const p of pieces) dataParts.push(p);
      const metadataSize = ev.metadata.length + METADATA_PREFIX_BYTES;
      metadataTotal += metadataSize;
      sizes.push({ metadataSize, dataSize });
    });
    if (events.length === 0) return { firstId: this.refresh(), count: 0 };

    // The lock is a lease kept across back-to-back appends; while it was held continuously nobody else (of ours)
    // appended, so the cached end is exact. Each (re)acquisition re-reads the end from disk.
    const reacquire = !this.lock.isHeld || this.lock.heldFor() >= MAX_HOLD_MS || !this.lock.stillOurs();
    if (reacquire) {
      this.lock.release();
      // The lock lives in the partition folder, which a reference topic may lack (max+1 counting).
      if (this.writeFds === null) fs.mkdirSync(this.dir, { recursive: true });
      this.lock.acquire();
    }
    try {
      if (reacquire) {
        // Other processes may have appended, or died leaving a torn tail (cut now: we hold the lock).
        const scan = this.scanTail(this.count);
        this.refuseIfCommittedLost(scan);
        const torn = this.describeTail(scan);
        if (torn !== null) {
          this.truncateTail(scan);
          torn.truncated = true;
          this.mergeRecovery(torn);
        }
        this.adopt({ ...scan, entries: scan.committed, indexBytes: scan.committed * REFERENCE_ENTRY_BYTES });
      }
      const fds = this.openForWrite();
      const firstId = this.count;
      const entries = new Uint8Array(events.length * REFERENCE_ENTRY_BYTES);
      let metadataOffset = this.metadataEnd;
      let dataOffset = this.dataEnd;
      sizes.forEach((s, i) => {
        // A zero-length event still gets data_offset = current end of data, as the reference writes it.
        encodeIndexEntry(entries, i * REFERENCE_ENTRY_BYTES, {
          metadataOffset,
          metadataSize: s.metadataSize,
          dataOffset,
          dataSize: s.dataSize,
        });
        metadataOffset += s.metadataSize;
        dataOffset += s.dataSize;
      });
      writeAllAt(fds.metadata, metadataPieces, this.metadataEnd);
      writeAllAt(fds.data, dataParts, this.dataEnd);
      if (this.flushBehavior === 'immediate') {
        // Records reach the disk before the entries that commit them.
        fs.fdatasyncSync(fds.metadata);
        fs.fdatasyncSync(fds.data);
      }
      writeAllAt(fds.index, [entries], firstId * REFERENCE_ENTRY_BYTES);
      if (this.flushBehavior === 'immediate') fs.fdatasyncSync(fds.index);
      this.count = firstId + events.length;
      this.metadataEnd = this.metadataEnd + metadataTotal;
      this.dataEnd = dataOffset;
      this.cleanIndexSize = this.count * REFERENCE_ENTRY_BYTES;
      this.lock.touchLease();
      signalLocalCommit(this.dir);
      return { firstId, count: events.length };
    } catch (err) {
      // Whatever was half written is an uncommitted tail: the next holder re-reads and cuts it.
      this.lock.release();
      if (err instanceof StorageError || err instanceof TypeError) throw err;
      throw new StorageError('IO', `append to ${this.dir} failed: ${(err as Error).message}`, { file: this.dir, cause: err });
    }
  }

  private openForWrite(): { index: number; metadata: number; data: number } {
    if (this.writeFds === null) {
      fs.mkdirSync(this.dir, { recursive: true });
      const flags = fs.constants.O_RDWR | fs.constants.O_CREAT;
      const open = (f: string): number => fs.openSync(f, flags, 0o644);
      const metadata = open(this.metadataPath);
      const data = open(this.dataPath);
      const index = open(this.indexPath);
      this.writeFds = { index, metadata, data };
    }
    return this.writeFds;
  }

  flush(): void {
    this.ensureOpen();
    if (this.flushBehavior === 'buffered' || this.writeFds === null) return;
    fs.fsyncSync(this.writeFds.metadata);
    fs.fsyncSync(this.writeFds.data);
    fs.fsyncSync(this.writeFds.index);
  }

  // ---------------------------------------------------------------- waiting

  waitForAppend(knownEnd: number, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    this.ensureOpen();
    // The shared watcher: in-process appends signal it directly, other processes' (C++ ones included) through
    // inotify on the partition folder, with a slow poll behind.
    this.watcher ??= new CommitWatcher(this.dir);
    return this.watcher.wait(
      () => {
        if (this.closed) return false;
        try {
          return this.refresh() > knownEnd;
        } catch {
          return false;
        }
      },
      timeoutMs,
      signal,
    );
  }

  // ---------------------------------------------------------------- inspection

  stats(): PartitionStats {
    this.refresh();
    return {
      firstId: 0,
      endId: this.count,
      events: this.count,
      metadataBytes: this.metadataEnd,
      dataBytes: this.dataEnd,
      segments: 1,
      firstTimestamp: null,
      lastTimestamp: null,
    };
  }

  /**
   * Structural check (the format has no checksums): entries in order and contiguous, within the files, metadata
   * length prefixes equal to the record sizes, metadata parses as UTF-8 JSON; a torn or orphan tail is reported too.
   */
  verify(): VerifyProblem[] {
    this.ensureOpen();
    const problems: VerifyProblem[] = [];
    const scan = this.scanTail(0);
    const decoder = new TextDecoder('utf-8', { fatal: true });
    let metadataExpected = 0;
    let dataExpected = 0;
    for (let id = 0; id < scan.committed; id++) {
      const at = id * REFERENCE_ENTRY_BYTES;
      let e: ReferenceIndexEntry;
      try {
        e = this.entryAt(id);
      } catch (err) {
        problems.push({ file: this.indexPath, offset: at, id, message: (err as Error).message });
        continue;
      }
      if (e.metadataOffset !== metadataExpected) {
        problems.push({
          file: this.metadataPath,
          offset: e.metadataOffset,
          id,
          message: `metadata record starts at ${e.metadataOffset}, expected ${metadataExpected} (the previous record's end)`,
        });
      }
      if (e.dataOffset !== dataExpected) {
        problems.push({
          file: this.dataPath,
          offset: e.dataOffset,
          id,
          message: `data starts at ${e.dataOffset}, expected ${dataExpected} (the previous event's end)`,
        });
      }
      metadataExpected = e.metadataOffset + e.metadataSize;
      dataExpected = e.dataOffset + e.dataSize;
      if (e.dataOffset + e.dataSize > scan.dataBytes) {
        problems.push({ file: this.dataPath, offset: e.dataOffset, id, message: `data of ${e.dataSize} bytes points beyond the end of the file (${scan.dataBytes} bytes)` });
      }
      if (e.metadataSize < METADATA_PREFIX_BYTES || e.metadataOffset + e.metadataSize > scan.metadataBytes) {
        problems.push({ file: this.metadataPath, offset: e.metadataOffset, id, message: `metadata record of ${e.metadataSize} bytes is shorter than its prefix or points beyond the end of the file (${scan.metadataBytes} bytes)` });
        continue;
      }
      const record = this.metadataReader.slice(e.metadataOffset, e.metadataSize);
      if (record === null) {
        problems.push({ file: this.metadataPath, offset: e.metadataOffset, id, message: 'metadata record points beyond the end of the file' });
        continue;
      }
      const length = readU64(record, 0, this.metadataPath, e.metadataOffset);
      if (length !== e.metadataSize - METADATA_PREFIX_BYTES) {
        problems.push({ file: this.metadataPath, offset: e.metadataOffset, id, message: `metadata length prefix ${length} does not match the record size ${e.metadataSize} - 8` });
        continue;
      }
      try {
        JSON.parse(decoder.decode(record.subarray(METADATA_PREFIX_BYTES)));
      } catch (err) {
        problems.push({ file: this.metadataPath, offset: e.metadataOffset + METADATA_PREFIX_BYTES, id, message: `metadata is not valid UTF-8 JSON: ${(err as Error).message}` });
      }
    }
    const tail = this.describeTail(scan);
    if (tail !== null) {
      const offsets = [scan.committed * REFERENCE_ENTRY_BYTES, scan.metadataEnd, scan.dataEnd];
      const files = [this.indexPath, this.metadataPath, this.dataPath];
      const sizes = [scan.indexBytes, scan.metadataBytes, scan.dataBytes];
      for (let k = 0; k < 3; k++) {
        if (sizes[k]! > offsets[k]!) {
          problems.push({
            file: files[k]!,
            offset: offsets[k]!,
            message: `${sizes[k]! - offsets[k]!} bytes past the last committed event (torn tail or orphan bytes of an interrupted write)`,
          });
        }
      }
    }
    return problems;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.lock.release();
    this.watcher?.close();
    this.watcher = null;
    this.indexReader.close();
    this.metadataReader.close();
    this.dataReader.close();
    if (this.writeFds !== null) {
      for (const fd of [this.writeFds.index, this.writeFds.metadata, this.writeFds.data]) fs.closeSync(fd);
      this.writeFds = null;
    }
  }

  private ensureOpen(): void {
    if (this.closed) throw new StorageError('CLOSED', `partition ${this.index} (${this.dir}) is closed`);
  }

  private checkId(id: number): void {
    if (typeof id !== 'number' || !Number.isInteger(id)) throw new TypeError('id must be an integer');
    if (id < 0) throw new StorageError('OUT_OF_RANGE', `event id ${id} is negative`, { id });
  }

  private corruption(file: string, offset: number, id: number, what: string): StorageError {
    return new StorageError('CORRUPTION', `${file} at offset ${offset} (event ${id}): ${what}`, { file, offset, id });
  }
}
