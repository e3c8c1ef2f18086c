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
  ENTRY_SIZE, HOST_IS_LE, allocEntryBuffer, encodeEntry, encodeEntryWords, entryDataCrc, entryDataEnd, entryDataLength, entryDataOffset, entryMetaCrc, entryMetaLength,
  entryMetaOffset, entryTimestamp,
} from './index-entry.js';
import { DataCheckRun, metadataRunIntact } from './run-checks.js';
import { NativeStoredEvent } from './stored-event.js';
import {
  DEFAULT_SEGMENT_BYTES, MAX_EVENT_PART_BYTES, MAX_SEGMENT_BYTES, resolvePartitionOptions, type ResolvedPartitionOptions,
} from './partition-options.js';
import { STAGE_LIMIT, staging, writeAll, writePieces } from './write-pieces.js';
import { Segment } from './segment.js';
import { fsyncDir, listSegmentBases, segmentPaths } from './segment-files.js';
import { WriterLock, MAX_HOLD_MS, sleepSync } from './writer-lock.js';
import { findTornTail, repairTail, mergeReports } from './recovery.js';
import {
  RecoveryPointReader, RecoveryPointWriter, currentBootId, protectedEnd, readRecoveryPoint, recoveryPointPath, type RecoveryPointState,
} from './recovery-point.js';
import { structureProblems } from './partition-structure.js';
import { CommitWatcher, signalLocalCommit } from './commit-watcher.js';
import { verifyPartition } from './partition-verify.js';
import { planTrim, type TrimPlan } from './retention/trim-plan.js';
import type { RetentionPolicy } from './retention/retention-policy.js';
import { trimStepDone, unlinkSegmentsBelow } from './retention/segment-trim.js';
import { lastSegmentDueToRoll, summarizeSegments } from './retention/segment-summary.js';
import {
  StorageError, type AppendEvent, type AppendResult, type PartitionLogLike, type PartitionOptions,
  type PartitionStats, type RecoveryReport, type StoredEvent, type VerifyProblem,
} from './types.js';

export { NativeStoredEvent };

export {
  DEFAULT_SEGMENT_BYTES, MAX_SEGMENT_BYTES, MAX_EVENT_PART_BYTES, resolvePartitionOptions, type ResolvedPartitionOptions,
};

/** Pause after a forced lease rotation so that a writer waiting in another process can take the lock. */
const ROTATION_GAP_MS = 1;
const EMPTY = new Uint8Array(0);

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

export class PartitionLog implements PartitionLogLike {
  readonly dir: string;
  readonly index: number;
  readonly options: ResolvedPartitionOptions;
  /** What crash recovery cut (run by a writer when it takes the writer lock); null if nothing. */
  recovery: RecoveryReport | null = null;
  /** The recovery point as last read (before the index, by refresh()). */
  private pointState: RecoveryPointState = { kind: 'missing' };
  /** The writer's handle on the recovery point (created by the first append). */
  private pointWriter: RecoveryPointWriter | null = null;
  private readonly pointReader: RecoveryPointReader;
  private readingUnderLock = false;
  /** Number of segments whose structure was last found intact by a full check (-1: never checked). */
  private segmentsChecked = -1;
  private segments: Segment[] = [];
  // retention: moves forward when segments are trimmed (retention/segment-trim.ts).
  private firstBase: number;
  /** retention: whether this writer looked for segments an interrupted trim left below the first id. */
  private leftoversRemoved = false;
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
    this.pointReader = new RecoveryPointReader(recoveryPointPath(dir));
    this.pointState = this.pointReader.read();
    const bases = listSegmentBases(dir);
    // The recorded first id wins over the files: a first segment that vanished must not make the log start later.
    this.firstBase = this.pointState.kind === 'ok' ? this.pointState.point.firstId : bases[0] ?? 0;
    for (let i = 0; i < bases.length; i++) {
      // retention: segments wholly below the first id are an interrupted trim's leftovers, not part of the log.
      if (bases[i]! < this.firstBase && (bases[i + 1] ?? Infinity) <= this.firstBase) continue;
      const seg = new Segment(dir, bases[i]!);
      if (i + 1 < bases.length) seg.seal(bases[i + 1]! - bases[i]!);
      this.segments.push(seg);
    }
  }

  /**
   * Opens partition `index` stored in `dir`, read-only: nothing is created, locked, cut or renamed (a torn tail is
   * only left out of the readable range). The first append takes the writer lock and repairs (see recovery.ts).
   */
  static open(dir: string, index = 0, opts: PartitionOptions = {}): PartitionLog {
    if (typeof dir !== 'string') throw new TypeError('partition dir must be a string');
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0) throw new TypeError('partition index must be a non-negative integer');
    const options = resolvePartitionOptions(opts);
    const log = new PartitionLog(path.resolve(dir), index, options);
    try {
      log.refresh();
      // A torn tail that no live writer is finishing is reported as found (and left for the next writer to cut). The
      // lock's generation is read before and after: a writer that started meanwhile may have written the bytes seen.
      const last = log.segments[log.segments.length - 1];
      const idle = last === undefined ? null : log.lock.idleGeneration();
      if (idle !== null) {
        const found = findTornTail(last!, index);
        if (found !== null && log.lock.idleGeneration() === idle) log.recovery = found;
      }
    } catch (err) {
      log.close();
      throw err;
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
    // The recovery point first, the index after (a writer writes them in the other order): entries below the point
    // were in the index before the point was written, so one this reader cannot find was lost, not yet to come.
    this.pointState = this.readingUnderLock ? readRecoveryPoint(this.dir) : this.pointReader.read();
    // retention: another process trimmed: forget the segments below the new first id.
    if (this.pointState.kind === 'ok' && this.pointState.point.firstId > this.firstBase) this.dropSegmentsBelow(this.pointState.point.firstId);
    const guard = protectedEnd(this.pointState);
    let grew = false;
    for (;;) {
      const last = this.segments[this.segments.length - 1];
      if (last !== undefined && last.catchUp() > 0) {
        grew = true;
        continue;
      }
      // Nothing new in the last segment: has a writer rolled over to a new one? (Writers only roll away from a
      // non-empty segment, so an empty last segment cannot have a successor.)
      if (last !== undefined && last.count === 0) break;
      const nextBase = last === undefined ? this.firstBase : last.endId;
      if (!fs.existsSync(segmentPaths(this.dir, nextBase).index)) break;
      if (last !== undefined) last.seal(last.count);
      const seg = new Segment(this.dir, nextBase);
      this.segments.push(seg);
    }
    let last = this.segments[this.segments.length - 1];
    // New entries above the point whose bytes are not in the files were torn by a power loss: not events.
    if (grew && last !== undefined) last.dropEntriesPastEnd(Math.max(0, (guard ?? 0) - last.baseId));
    if (guard !== null && guard > this.endId) {
      // The point records more than the files hold: those ids exist and read as CORRUPTION; the end never
      // moves back below the point (so no writer can hand them out again).
      if (last === undefined) {
        last = new Segment(this.dir, this.firstBase);
        this.segments.push(last);
      }
      last.extendTo(guard - last.baseId);
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
      // Everything up to our end is on disk now. Only recorded while the lease is ours: without it another
      // writer may have recorded a later end that ours must not overwrite (a stale durable end only makes
      // recovery after a power loss less strict, never wrong).
      try {
        if (this.lock.isHeld && this.pointWriter !== null) this.pointWriter.write(this.endId, this.endId);
      } catch {
        // The data is durable; an older durable end in the point only makes recovery after a power loss less strict.
      }
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
    // The lock lives in the partition folder, which only a writer creates (read-only opens create nothing).
    fs.mkdirSync(this.dir, { recursive: true });
    this.lock.acquire();
    try {
      this.syncUnderLock();
    } catch (err) {
      this.lock.release();
      throw err;
    }
  }

  /**
   * With the lock held: catch up with other writers' commits, refuse to append to a damaged partition
   * (CORRUPTION: ids must never be handed out twice), cut a torn tail a dead writer left, and bring the recovery
   * point up to date (re-creating it when it is missing or invalid).
   */
  private syncUnderLock(): void {
    // The writer reads the point by path: the file as it is now, not one a reader's descriptor may still hold.
    this.readingUnderLock = true;
    try {
      this.refresh();
    } finally {
      this.readingUnderLock = false;
    }
    const state = this.pointState;
    const guard = protectedEnd(state);
    const damage = this.structureDamage(state.kind === 'ok' ? state.point.firstId : null, guard);
    if (damage.length > 0) {
      const d = damage[0]!;
      throw new StorageError('CORRUPTION', `${d.file} at offset ${d.offset}: ${d.message}; no append is accepted`, {
        file: d.file, offset: d.offset, id: d.id,
      });
    }
    const last = this.segments[this.segments.length - 1];
    let found = this.endId;
    if (last !== undefined) {
      if (this.writeTarget !== null && this.writeTarget.segment !== last) this.closeWriteTarget();
      const cut = repairTail(last, guard, this.index);
      // Ids the files still had some trace of (cut just now) are not counted again as lost below.
      found = this.endId + (cut?.droppedEntries ?? 0);
      // What a read-only look found is superseded by what this repair cut (or found gone meanwhile).
      if (this.recovery?.truncated === false) this.recovery = null;
      this.recovery = mergeReports(this.recovery, cut);
      // Timestamps never decrease within a partition: findByTime relies on it.
      this.lastTimestamp = Math.max(this.lastTimestamp, last.lastTimestamp() ?? 0);
    }
    this.syncRecoveryPoint(state, found);
    // retention: a trim that crashed after recording the first id left segments below it: finish it (once per writer;
    // every trim finishes it again).
    if (!this.leftoversRemoved) {
      unlinkSegmentsBelow(this.dir, this.firstBase);
      this.leftoversRemoved = true;
    }
  }

  // ---------------------------------------------------------------- retention

  /**
   * retention: removes the oldest sealed segments the policy no longer keeps (trim-plan.ts), under the writer lock,
   * in the crash-safe order of retention/segment-trim.ts. A last segment whose oldest event is past the age limit
   * is sealed first (a new empty one starts): it rolls by age as well as by size (segment-summary.ts). `ackedFloor`: the lowest id
   * the consumers the policy waits for have not acknowledged (null: none). `dryRun` plans without the lock.
   */
  trim(policy: RetentionPolicy | null, ackedFloor: number | null, now = Date.now(), dryRun = false): TrimPlan {
    this.assertOpen();
    if (dryRun) {
      this.refresh();
      const summaries = summarizeSegments(this.segments);
      // As if the last segment were rolled by age: what a real trim would do.
      if (lastSegmentDueToRoll(this.segments, policy, now)) summaries.push({ baseId: this.endId, endId: this.endId, bytes: 0, newestTimestamp: null });
      return planTrim(summaries, policy, ackedFloor, now);
    }
    const heldBefore = this.lock.isHeld;
    this.ensureLease();
    try {
      if (lastSegmentDueToRoll(this.segments, policy, now)) this.roll(this.writableTarget());
      const plan = planTrim(summarizeSegments(this.segments), policy, ackedFloor, now);
      if (plan.firstId > this.firstBase) {
        this.pointWriter!.writeFirstId(plan.firstId);
        trimStepDone(1);
        this.dropSegmentsBelow(plan.firstId);
      }
      unlinkSegmentsBelow(this.dir, this.firstBase);
      return plan;
    } finally {
      // A lock taken for the trim is given back at once, not left to the idle timer: a trimmer going through the
      // partitions synchronously must never hold one partition's lock while it waits for the next one's (another
      // process doing the same the other way round, e.g. a producer, would wait for it until the lock timeout).
      if (heldBefore) this.lock.touchLease();
      else this.lock.release();
    }
  }

  /** retention: forgets segments below `firstId` (their mappings go once no slice refers to them). */
  private dropSegmentsBelow(firstId: number): void {
    let keep = 0;
    while (keep < this.segments.length && this.segments[keep]!.baseId < firstId) keep++;
    for (const seg of this.segments.splice(0, keep)) {
      if (this.lastUsed === seg) this.lastUsed = null;
      if (this.writeTarget?.segment === seg) this.closeWriteTarget();
      seg.close();
    }
    this.firstBase = firstId;
    this.segmentsChecked = -1;
  }

  /**
   * Structural damage (partition-structure.ts). The whole partition is checked (a readdir and a stat per segment)
   * the first time and whenever the number of segments changed; otherwise only the last segment's files, so that a
   * writer taking the lock often on a partition of many segments does not stat them all each time. A sealed
   * segment damaged later is still found by reads and verify(), and cannot make an id be handed out twice.
   */
  private structureDamage(firstId: number | null, guard: number | null): VerifyProblem[] {
    const last = this.segments[this.segments.length - 1];
    if (this.segmentsChecked !== this.segments.length || last === undefined) {
      const damage = structureProblems(this.dir, firstId, guard);
      if (damage.length === 0) this.segmentsChecked = this.segments.length;
      return damage;
    }
    const missing: VerifyProblem[] = [];
    for (const kind of ['index', 'meta', 'data'] as const) {
      if (!fs.existsSync(last.paths[kind])) missing.push({ file: last.paths[kind], offset: 0, id: last.baseId, message: 'segment file is missing' });
    }
    // Only the interrupted creation of a still-empty last segment may lack its index (see partition-structure.ts).
    return missing.length > 0 ? structureProblems(this.dir, firstId, guard) : missing;
  }

  /** Makes the recovery point say what the files hold now (under the lock, after repair; `found`: end before it). */
  private syncRecoveryPoint(state: RecoveryPointState, found: number): void {
    const end = this.endId;
    if (state.kind === 'ok') {
      this.pointWriter ??= new RecoveryPointWriter(this.dir, { ...state.point });
      this.pointWriter.point = { ...state.point };
      if (!state.sameBoot && state.point.committedEnd > found) {
        // Committed in the previous boot but never made durable, and not even a torn entry of them is left.
        this.recovery = mergeReports(this.recovery, {
          partition: this.index, firstCutId: found, droppedEntries: state.point.committedEnd - found, droppedBytes: 0, cuts: [], truncated: false,
          notes: [`${recoveryPointPath(this.dir)}: events ${found}..${state.point.committedEnd - 1} were committed before a reboot but not durable (durable end ${state.point.durableEnd}); the files no longer hold them`],
        });
      }
      // After a reboot the point is re-stamped: what is on disk now is what this boot's writers build on.
      if (!state.sameBoot || state.point.committedEnd !== end) this.pointWriter.write(end);
      return;
    }
    this.pointWriter ??= new RecoveryPointWriter(this.dir, { firstId: this.firstBase, committedEnd: end, durableEnd: this.firstBase, bootId: currentBootId() });
    this.pointWriter.point = { firstId: this.firstBase, committedEnd: end, durableEnd: this.firstBase, bootId: currentBootId() };
    this.pointWriter.write(end);
    const file = recoveryPointPath(this.dir);
    if (state.kind === 'invalid') fs.truncateSync(file, this.pointWriter.size);
    if (state.kind === 'invalid' || this.segments.length > 0) {
      const why = state.kind === 'invalid' ? state.reason : `${file} is missing (a topic of an earlier version, or a deleted file)`;
      const note = `${why}: the tail was checked with checksums only; recovery point re-created at end ${end}`;
      this.recovery = mergeReports(this.recovery, {
        partition: this.index, firstCutId: null, droppedEntries: 0, droppedBytes: 0, notes: [note], cuts: [], truncated: false,
      });
    }
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
    // After the entries (and their fsync in 'immediate'): the point never claims an entry not yet written. The
    // batch is committed already: a failing point write must not make append() report a failure (a retry would
    // store the events twice); a point left behind only makes recovery less strict until the next batch.
    try {
      this.pointWriter!.write(seg.endId, immediate ? seg.endId : undefined);
    } catch {
      // see above
    }
  }

  /** After a failed write: cut what was not committed (best effort) and give up the lease so that state is re-read. */
  private abortAfterFailedWrite(): void {
    try {
      if (this.lock.isHeld) {
        const last = this.segments[this.segments.length - 1];
        if (last !== undefined) {
          last.catchUp();
          this.recovery = mergeReports(this.recovery, repairTail(last, this.pointWriter?.point.committedEnd ?? null, this.index));
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
    if (id < seg.baseId) {
      const missing = segmentPaths(this.dir, this.firstBase).index;
      throw new StorageError('CORRUPTION', `event ${id} is missing: the partition starts at id ${this.firstBase} but its first segment file starts at ${seg.baseId} (${missing} is missing)`, {
        file: missing, offset: 0, id,
      });
    }
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
    if (id < this.firstBase) throw this.beforeFirst(id);
    try {
      const seg = this.segmentFor(id);
      this.measure(seg);
      return this.eventAt(seg, id);
    } catch (err) {
      throw this.removedMeanwhile(err, id);
    }
  }

  private beforeFirst(id: number): StorageError {
    return new StorageError('OUT_OF_RANGE', `event ${id} is before the first stored event ${this.firstBase}`, { id, firstId: this.firstBase });
  }

  /** retention: a read failing because another process trimmed its segment meanwhile is OUT_OF_RANGE, not damage. */
  private removedMeanwhile(err: unknown, id: number): unknown {
    if (!(err instanceof StorageError) || err.code !== 'CORRUPTION') return err;
    this.refresh();
    return id < this.firstBase ? this.beforeFirst(id) : err;
  }

  readRange(from: number, max: number): StoredEvent[] {
    this.assertOpen();
    validateId('from', from);
    if (typeof max !== 'number') throw new TypeError('max must be a number');
    if (!Number.isInteger(max) || max < 0) throw new StorageError('OUT_OF_RANGE', `max must be a non-negative integer, got ${max}`);
    if (from < this.firstBase) throw this.beforeFirst(from);
    let end = this.endId;
    if (from + max > end) end = this.refresh();
    if (from > end) throw new StorageError('OUT_OF_RANGE', `event ${from} is past the end ${end}`, { id: from });
    const stop = Math.min(end, from + max);
    const out: StoredEvent[] = new Array(stop - from);
    let id = from;
    try {
      this.readInto(out, from, stop);
    } catch (err) {
      throw this.removedMeanwhile(err, from);
    }
    return out;
  }

  private readInto(out: StoredEvent[], from: number, stop: number): void {
    let id = from;
    while (id < stop) {
      const seg = this.segmentFor(id);
      const segStop = Math.min(stop, seg.endId);
      seg.ensureCached(segStop - 1 - seg.baseId);
      this.measure(seg);
      this.mapDataNow(seg, segStop - 1 - seg.baseId);
      const runEnd = segStop - seg.baseId;
      const run = this.options.verifyData && segStop - id > 1 ? new DataCheckRun(seg, runEnd) : null;
      // Metadata checked for the whole run at once; if anything is off, event by event (which names the culprit).
      const metadataChecked = segStop - id > 1 && metadataRunIntact(seg, id - seg.baseId, runEnd);
      for (; id < segStop; id++) out[id - from] = this.eventAt(seg, id, run, metadataChecked);
    }
  }

  /**
   * retention: maps the data the records of a read refer to now, while the file surely exists, so that a record
   * whose data() is called after retention unlinked its segment still finds its bytes (unlinked files stay readable
   * through a mapping). A failure is left for data() to report, where it always was.
   */
  private mapDataNow(seg: Segment, lastPos: number): void {
    try {
      seg.data.cover(entryDataEnd(seg.index, lastPos * ENTRY_SIZE));
    } catch {
      // reported by data()
    }
  }

  /**
   * One fstat per file per call (not per event): bytes are only touched below sizes measured here, so a file that
   * another process truncated is CORRUPTION (naming file and offset) instead of SIGBUS.
   */
  private measure(seg: Segment): void {
    seg.meta.measure();
    seg.data.measure();
  }

  private eventAt(seg: Segment, id: number, run: DataCheckRun | null = null, metadataChecked = false): NativeStoredEvent {
    const pos = id - seg.baseId;
    const at = pos * ENTRY_SIZE;
    const buf = seg.index;
    if (seg.bad !== null && seg.bad.has(pos)) {
      const what = seg.missingFrom !== null && pos >= seg.missingFrom
        ? `is missing or damaged although the recovery point records it as committed`
        : 'fails its checksum';
      throw new StorageError('CORRUPTION', `index entry of event ${id} ${what} (${seg.paths.index} at offset ${at})`, {
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
      this.options.verifyData, run, metaOffset + metaLength,
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
      this.pointWriter?.close();
      this.pointReader.close();
      for (const seg of this.segments) seg.close();
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new StorageError('CLOSED', `partition ${this.dir} is closed`);
  }
}
