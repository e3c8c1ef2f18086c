// One partition of a topic in the C++ reference's "files" layout (API.md 3.3): `index` (32-byte entries of four
// u64 LE: metadata offset, metadata size, data offset, data size), `metadata` (u64 LE length + JSON per record)
// and `data` (raw bytes). The index entry is the commit record: metadata and data are written first.
// There are no timestamps and no checksums in this format: timestamps read as 0, findByTime is UNSUPPORTED,
// and verify() checks structure only. The format adapter of the partition core (../partition-core/).
import fs from 'node:fs';
import path from 'node:path';
import { StorageError, type AppendEvent, type FlushBehavior, type PartitionOptions, type StoredEvent, type VerifyProblem } from '../types.js';
import { MIN_LOCK_STALE_MS } from '../writer-lock.js';
import { resolvePartitionOptions } from '../partition-options.js';
import { writePieces } from '../write-pieces.js';
import { PartitionCore, checkPartitionArgs, type FormatStats } from '../partition-core/partition-core.js';
import { mergeRepair } from '../partition-core/recovery-report.js';
import type { BatchSizes } from '../partition-core/batch-check.js';
import { ReferenceFiles, type TailScan } from './reference-files.js';
import { verifyReferencePartition } from './reference-verify.js';
import { METADATA_PREFIX_BYTES, REFERENCE_ENTRY_BYTES, decodeIndexEntry, encodeIndexEntry, readU64, writeU64 } from './reference-layout.js';

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

export class ReferencePartitionLog extends PartitionCore {
  private readonly files: ReferenceFiles;
  private readonly flush_: FlushBehavior;
  private readonly staleMs: number;
  private writeFds: { index: number; metadata: number; data: number } | null = null;
  private count = 0;
  private metadataEnd = 0;
  private dataEnd = 0;
  /** Index size at the last refresh whose tail was clean (-1: rescan next time). */
  private cleanIndexSize = -1;

  private constructor(dir: string, index: number, opts: ReferencePartitionOptions) {
    super(dir, index);
    // Same option checks (TypeError / BAD_CONFIG) as native partitions; segmentBytes and verifyData do not apply.
    const resolved = resolvePartitionOptions(opts);
    this.flush_ = resolved.flushBehavior;
    this.staleMs = Math.max(resolved.lockStaleMs, MIN_LOCK_STALE_MS);
    this.files = new ReferenceFiles(dir, {
      ...(opts.mapChunkBytes !== undefined ? { chunkBytes: opts.mapChunkBytes } : {}),
      ...(opts.mapLimit !== undefined ? { mapLimit: opts.mapLimit } : {}),
    });
  }

  /**
   * Opens partition `index` stored in `dir` (missing files read as empty and are created by the first append).
   * Detects a torn tail left by a crashed writer; cuts it per `repairOnOpen` when the writer lock is free.
   */
  static open(dir: string, index = 0, opts: ReferencePartitionOptions = {}): ReferencePartitionLog {
    checkPartitionArgs(dir, index);
    const mode = opts.repairOnOpen ?? 'never';
    if (!['if-idle', 'always', 'never'].includes(mode)) {
      throw new StorageError('BAD_CONFIG', `repairOnOpen must be "if-idle", "always" or "never", got ${JSON.stringify(mode)}`);
    }
    const log = new ReferencePartitionLog(path.resolve(dir), index, opts);
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

  protected get flushBehavior(): FlushBehavior {
    return this.flush_;
  }

  // ---------------------------------------------------------------- tail detection and recovery

  private adopt(scan: TailScan): void {
    this.count = scan.committed;
    this.metadataEnd = scan.metadataEnd;
    this.dataEnd = scan.dataEnd;
    const clean = scan.committed === scan.entries && scan.indexBytes === scan.entries * REFERENCE_ENTRY_BYTES;
    this.cleanIndexSize = clean ? scan.indexBytes : -1;
  }

  /** One attempt at the writer lock; false when busy or when the folder cannot hold it (read-only copy). */
  private tryLockForRepair(): boolean {
    try {
      return this.lease.lock.tryAcquire();
    } catch (err) {
      if (err instanceof StorageError && err.code === 'LOCK_FAILED') return false;
      throw err;
    }
  }

  private openRecovery(mode: RepairOnOpen): void {
    const files = this.files;
    let scan = files.scanTail(0);
    this.adopt(scan);
    const tail = files.describeTail(scan, this.index);
    if (tail === null) return;
    const idle = Date.now() - files.newestChangeMs() >= this.staleMs;
    if ((mode === 'always' || (mode === 'if-idle' && idle)) && this.tryLockForRepair()) {
      try {
        scan = files.scanTail(0); // a writer may have committed between the first look and the lock
        const report = files.describeTail(scan, this.index);
        if (report !== null) {
          files.truncateTail(scan);
          report.truncated = true;
        }
        this.adopt(scan);
        this.recovery = report;
        return;
      } finally {
        this.lease.lock.release();
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

  /**
   * Under the writer lock: other processes may have appended, or died leaving a torn tail (cut now). CORRUPTION,
   * cutting nothing, when entries this process saw committed are gone, or when the last committed entry's records
   * are no longer in the files (appending after it would leave a hole that reads as zeros: no checksums here).
   */
  protected syncUnderLock(): void {
    const files = this.files;
    const scan = files.scanTail(this.count);
    if (scan.entries < this.count) {
      const at = scan.entries * REFERENCE_ENTRY_BYTES;
      throw files.corruption(files.indexPath, at, scan.entries, `the index holds ${scan.entries} entries but events up to ${this.count - 1} were committed; no append is accepted`);
    }
    if (scan.committed > 0 && (scan.metadataEnd > scan.metadataBytes || scan.dataEnd > scan.dataBytes)) {
      const [file, size] = scan.metadataEnd > scan.metadataBytes ? [files.metadataPath, scan.metadataBytes] : [files.dataPath, scan.dataBytes];
      throw files.corruption(file, size, scan.committed - 1, `committed event ${scan.committed - 1} ends past the end of the file (${size} bytes); no append is accepted`);
    }
    const torn = files.describeTail(scan, this.index);
    if (torn !== null) {
      files.truncateTail(scan);
      torn.truncated = true;
    }
    this.recovery = mergeRepair(this.recovery, torn);
    this.adopt({ ...scan, entries: scan.committed, indexBytes: scan.committed * REFERENCE_ENTRY_BYTES });
  }

  // ---------------------------------------------------------------- reading

  protected readEnd(): number {
    this.assertOpen();
    const size = this.files.index.size();
    if (size === this.cleanIndexSize) return this.count;
    if (size < this.count * REFERENCE_ENTRY_BYTES) {
      // Someone cut entries this process saw committed (outside our protocol): the end does not move back (reads
      // of the lost ids fail with CORRUPTION, slices are only taken below the measured sizes) and no append is
      // accepted, so their ids are never handed out again.
      return this.count;
    }
    this.adopt(this.files.scanTail(this.count));
    return this.count;
  }

  protected eventAt(id: number): StoredEvent {
    return this.eventsIn(id, id + 1)[0]!;
  }

  protected eventsIn(from: number, end: number): StoredEvent[] {
    const files = this.files;
    files.measure();
    const at = from * REFERENCE_ENTRY_BYTES;
    const buf = files.index.slice(at, (end - from) * REFERENCE_ENTRY_BYTES);
    if (buf === null) throw files.corruption(files.indexPath, at, from, 'index entries past the end of the file');
    const out: StoredEvent[] = new Array(end - from);
    for (let id = from; id < end; id++) {
      const rel = (id - from) * REFERENCE_ENTRY_BYTES;
      out[id - from] = this.eventFrom(id, buf, rel, at + rel);
    }
    return out;
  }

  private eventFrom(id: number, buf: Uint8Array, rel: number, fileOffset: number): StoredEvent {
    const files = this.files;
    const e = decodeIndexEntry(buf, rel, files.indexPath, fileOffset);
    if (e.metadataSize < METADATA_PREFIX_BYTES) {
      throw files.corruption(files.indexPath, fileOffset + 8, id, `metadata size ${e.metadataSize} is smaller than its 8-byte length prefix`);
    }
    const record = files.metadata.slice(e.metadataOffset, e.metadataSize);
    if (record === null) {
      throw files.corruption(files.metadataPath, e.metadataOffset, id, `metadata record of ${e.metadataSize} bytes points beyond the end of the file`);
    }
    const length = readU64(record, 0, files.metadataPath, e.metadataOffset);
    if (length !== e.metadataSize - METADATA_PREFIX_BYTES) {
      throw files.corruption(files.metadataPath, e.metadataOffset, id, `metadata length prefix ${length} does not match the index's record size ${e.metadataSize} - 8`);
    }
    const dataEnd = e.dataOffset + e.dataSize;
    if (dataEnd > files.data.cachedSize && dataEnd > files.data.size()) {
      throw files.corruption(files.dataPath, e.dataOffset, id, `data of ${e.dataSize} bytes points beyond the end of the file`);
    }
    return new ReferenceStoredEvent(this, id, record.subarray(METADATA_PREFIX_BYTES), e.dataOffset, e.dataSize, e.metadataOffset + e.metadataSize);
  }

  /** @internal Data bytes of event `id` (a slice of the mapping; the file re-measured if the last fstat is old). */
  dataSlice(id: number, offset: number, size: number): Uint8Array {
    this.assertOpen();
    const s = this.files.data.sliceFresh(offset, size);
    if (s === null) throw this.files.corruption(this.files.dataPath, offset, id, `data of ${size} bytes points beyond the end of the file`);
    return s;
  }

  /** @internal CORRUPTION when the metadata file no longer holds bytes up to `end` (truncated by someone). */
  checkMetadataStillThere(id: number, end: number): void {
    const metadata = this.files.metadata;
    if (!metadata.stillCovers(end)) {
      throw this.files.corruption(this.files.metadataPath, metadata.cachedSize, id, `the metadata file was truncated to ${metadata.cachedSize} bytes under a reader`);
    }
  }

  findByTime(_ms: number): number {
    this.assertOpen();
    throw new StorageError('UNSUPPORTED', 'the reference files format stores no timestamps: seeking by time is not possible');
  }

  // ---------------------------------------------------------------- writing

  protected writeBatch(events: readonly AppendEvent[], sizes: BatchSizes, n: number): void {
    const fds = this.openForWrite();
    const firstId = this.count;
    const entries = new Uint8Array(n * REFERENCE_ENTRY_BYTES);
    // Each record is an 8-byte length prefix and the metadata; all prefixes of the batch share one buffer.
    const prefixes = new Uint8Array(n * METADATA_PREFIX_BYTES);
    const metadataPieces: Uint8Array[] = [];
    const dataPieces: Uint8Array[] = [];
    let metadataOffset = this.metadataEnd;
    let dataOffset = this.dataEnd;
    for (let i = 0; i < n; i++) {
      const ev = events[i]!;
      const prefix = prefixes.subarray(i * METADATA_PREFIX_BYTES, (i + 1) * METADATA_PREFIX_BYTES);
      writeU64(prefix, 0, ev.metadata.length);
      metadataPieces.push(prefix, ev.metadata);
      if (ev.data instanceof Uint8Array) dataPieces.push(ev.data);
      else if (ev.data !== undefined) dataPieces.push(...ev.data);
      const metadataSize = sizes.meta[i]! + METADATA_PREFIX_BYTES;
      // A zero-length event still gets data_offset = current end of data, as the reference writes it.
      encodeIndexEntry(entries, i * REFERENCE_ENTRY_BYTES, { metadataOffset, metadataSize, dataOffset, dataSize: sizes.data[i]! });
      metadataOffset += metadataSize;
      dataOffset += sizes.data[i]!;
    }
    writePieces(fds.metadata, metadataPieces, metadataOffset - this.metadataEnd, this.metadataEnd);
    writePieces(fds.data, dataPieces, dataOffset - this.dataEnd, this.dataEnd);
    const immediate = this.flush_ === 'immediate';
    if (immediate) {
      // Records reach the disk before the entries that commit them.
      fs.fdatasyncSync(fds.metadata);
      fs.fdatasyncSync(fds.data);
    }
    writePieces(fds.index, [entries], entries.length, firstId * REFERENCE_ENTRY_BYTES);
    if (immediate) fs.fdatasyncSync(fds.index);
    this.count = firstId + n;
    this.metadataEnd = metadataOffset;
    this.dataEnd = dataOffset;
    this.cleanIndexSize = this.count * REFERENCE_ENTRY_BYTES;
  }

  /** Whatever was half written is an uncommitted tail: the next holder of the lock re-reads and cuts it. */
  protected abortWrite(): void {
    this.cleanIndexSize = -1;
  }

  private openForWrite(): { index: number; metadata: number; data: number } {
    if (this.writeFds === null) {
      const flags = fs.constants.O_RDWR | fs.constants.O_CREAT;
      const open = (f: string): number => fs.openSync(f, flags, 0o644);
      const metadata = open(this.files.metadataPath);
      const data = open(this.files.dataPath);
      const index = open(this.files.indexPath);
      this.writeFds = { index, metadata, data };
      // Opened by path: if the folder was replaced meanwhile (topic deleted and created again), they are its files.
      if (this.lease.folder.replaced()) {
        this.closeWriteFds();
        throw this.lease.folder.goneError();
      }
    }
    return this.writeFds;
  }

  protected syncToDisk(): void {
    if (this.writeFds === null) return;
    fs.fsyncSync(this.writeFds.metadata);
    fs.fsyncSync(this.writeFds.data);
    fs.fsyncSync(this.writeFds.index);
  }

  // ---------------------------------------------------------------- inspection

  protected formatStats(): FormatStats {
    return { metadataBytes: this.metadataEnd, dataBytes: this.dataEnd, segments: 1, firstTimestamp: null, lastTimestamp: null };
  }

  verify(): VerifyProblem[] {
    this.assertOpen();
    return verifyReferencePartition(this.files, this.index);
  }

  protected closeFiles(): void {
    this.files.close();
    this.closeWriteFds();
  }

  private closeWriteFds(): void {
    const fds = this.writeFds;
    this.writeFds = null;
    if (fds !== null) for (const fd of [fds.index, fds.metadata, fds.data]) fs.closeSync(fd);
  }
}
