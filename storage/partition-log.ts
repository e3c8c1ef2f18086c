// One partition of a topic in the native format: a sequence of segments (segment-list.ts), appended to under the
// writer lock (held as a lease, see partition-core/lease.ts) and read without any lock through memory mappings.
// The format adapter of the partition core (partition-core/partition-core.ts): what is native here is the segment
// layout, the CRC-checked index entries (read into records by segment-records.ts), the recovery point and the tail
// repair of recovery.ts.
import fs from 'node:fs';
import path from 'node:path';
import { entryTimestamp } from './index-entry.js';
import { SegmentRecords } from './segment-records.js';
import type { SegmentRun } from './segment-run.js';
import { NativeStoredEvent } from './stored-event.js';
import {
  DEFAULT_SEGMENT_BYTES, MAX_EVENT_PART_BYTES, MAX_SEGMENT_BYTES, resolvePartitionOptions, type ResolvedPartitionOptions,
} from './partition-options.js';
import { segmentPaths } from './segment-files.js';
import { Segment } from './segment.js';
import { SegmentList } from './segment-list.js';
import { SegmentWriter } from './segment-writer.js';
import { findTornTail, repairTail } from './recovery.js';
import { mergeReports, mergeRepair } from './partition-core/recovery-report.js';
import { PartitionCore, checkPartitionArgs, type FormatStats } from './partition-core/partition-core.js';
import type { BatchSizes } from './partition-core/batch-check.js';
import {
  RecoveryPointReader, RecoveryPointWriter, currentBootId, protectedEnd, readRecoveryPoint, recoveryPointPath, type RecoveryPointState,
} from './recovery-point.js';
import { structureProblems } from './partition-structure.js';
import { verifyPartition } from './partition-verify.js';
import { StorageError, type AppendEvent, type FlushBehavior, type PartitionOptions, type VerifyProblem } from './types.js';
import { newestOf, planTrim, type TrimPlan } from './retention/trim-plan.js';
import { retentionRollBytes, type RetentionPolicy } from './retention/retention-policy.js';
import { trimStepDone, unlinkSegmentsBelow } from './retention/segment-trim.js';
import { lastSegmentDueToRoll, summarizeSegments } from './retention/segment-summary.js';

export { NativeStoredEvent };

export {
  DEFAULT_SEGMENT_BYTES, MAX_SEGMENT_BYTES, MAX_EVENT_PART_BYTES, resolvePartitionOptions, type ResolvedPartitionOptions,
};

export class PartitionLog extends PartitionCore {
  readonly options: ResolvedPartitionOptions;
  /** The recovery point as last read (before the index, by refresh()). */
  private pointState: RecoveryPointState = { kind: 'missing' };
  /** The writer's handle on the recovery point (created by the first append). */
  private pointWriter: RecoveryPointWriter | null = null;
  private readonly pointReader: RecoveryPointReader;
  private readingUnderLock = false;
  /** Number of segments whose structure was last found intact by a full check (-1: never checked). */
  private segmentsChecked = -1;
  private readonly segments: SegmentList;
  private readonly writer: SegmentWriter;
  /** Turns the segments' index entries into records (the reading side). */
  private readonly records: SegmentRecords;
  /** retention: whether this writer looked for segments an interrupted trim left below the first id. */
  private leftoversRemoved = false;

  private constructor(dir: string, index: number, options: ResolvedPartitionOptions) {
    super(dir, index);
    this.options = options;
    this.rollBytes = options.segmentBytes;
    this.writer = new SegmentWriter(options.flushBehavior);
    this.pointReader = new RecoveryPointReader(recoveryPointPath(dir));
    try {
      this.pointState = this.pointReader.read();
      this.segments = new SegmentList(dir, this.pointState);
      this.records = new SegmentRecords(this.segments, options.verifyData);
    } catch (err) {
      // Listing the segments failed (EMFILE, say): the point's descriptor must not outlive this failed open.
      this.pointReader.close();
      throw err;
    }
  }

  /**
   * Opens partition `index` stored in `dir`, read-only: nothing is created, locked, cut or renamed (a torn tail is
   * only left out of the readable range). The first append takes the writer lock and repairs (see recovery.ts).
   */
  static open(dir: string, index = 0, opts: PartitionOptions = {}): PartitionLog {
    checkPartitionArgs(dir, index);
    const options = resolvePartitionOptions(opts);
    const log = new PartitionLog(path.resolve(dir), index, options);
    try {
      log.refresh();
      // A torn tail that no live writer is finishing is reported as found (and left for the next writer to cut). The
      // lock's generation is read before and after: a writer that started meanwhile may have written the bytes seen.
      const last = log.segments.last;
      const lock = log.lease.lock;
      const idle = last === undefined ? null : lock.idleGeneration();
      if (idle !== null) {
        const found = findTornTail(last!, index);
        if (found !== null && lock.idleGeneration() === idle) log.recovery = found;
      }
    } catch (err) {
      log.close();
      throw err;
    }
    return log;
  }

  get startId(): number {
    return this.segments.startId;
  }

  get endId(): number {
    return this.segments.endId;
  }

  /** Number of segments currently known. */
  get segmentCount(): number {
    return this.segments.all.length;
  }

  protected get flushBehavior(): FlushBehavior {
    return this.options.flushBehavior;
  }

  protected readEnd(): number {
    this.assertOpen();
    // The recovery point first, the index after (a writer writes them in the other order): entries below the point
    // were in the index before the point was written, so one this reader cannot find was lost, not yet to come.
    this.pointState = this.readingUnderLock ? readRecoveryPoint(this.dir) : this.pointReader.read();
    const state = this.pointState;
    // retention: another process trimmed: forget the segments below the new first id.
    if (state.kind === 'ok' && state.point.firstId > this.segments.startId) this.dropSegmentsBelow(state.point.firstId);
    const guard = protectedEnd(state);
    // Readers look for a new segment only while the point records commits past the known ones (segment-list.ts).
    const grew = this.segments.catchUp(this.readingUnderLock || state.kind !== 'ok' ? null : state.point.committedEnd);
    const last = this.segments.last;
    // New entries above the point whose bytes are not in the files were torn by a power loss: not events.
    if (grew && last !== undefined) last.dropEntriesPastEnd(Math.max(0, (guard ?? 0) - last.baseId));
    // The point records more than the files hold: those ids exist and read as CORRUPTION; the end never moves
    // back below the point (so no writer can hand them out again).
    if (guard !== null) this.segments.extendTo(guard);
    return this.endId;
  }

  // ---------------------------------------------------------------- writing

  /** Where the segment being written rolls: segment_bytes, or less for a topic with a size retention policy. */
  private rollBytes: number;

  /** retention: the policy as last read (topic open, each trim check): a size limit makes segments smaller. */
  setRetentionRoll(policy: RetentionPolicy | null): void {
    this.rollBytes = Math.min(this.options.segmentBytes, retentionRollBytes(policy));
  }

  protected writeBatch(events: readonly AppendEvent[], sizes: BatchSizes, n: number): void {
    const { meta: metaLens, data: dataLens } = sizes;
    let i = 0;
    while (i < n) {
      const seg = this.writableSegment();
      let size = seg.metaEnd() + seg.dataEnd();
      let j = i;
      while (j < n) {
        const add = metaLens[j]! + dataLens[j]!;
        if (seg.count + (j - i) > 0 && size + add > this.rollBytes) break;
        size += add;
        j++;
      }
      if (j === i) {
        this.writer.close();
        this.createSegment(seg.endId);
        continue;
      }
      this.writer.writeRun(events, metaLens, dataLens, i, j);
      this.recordCommit(seg);
      i = j;
      this.lease.lock.assertStillOurs();
    }
  }

  /**
   * After the entries (and their fsync in 'immediate'): the point never claims an entry not yet written. The run
   * is committed already: a failing point write must not make append() report a failure (a retry would store the
   * events twice); a point left behind only makes recovery less strict until the next batch.
   */
  private recordCommit(seg: Segment): void {
    try {
      this.pointWriter!.write(seg.endId, this.options.flushBehavior === 'immediate' ? seg.endId : undefined);
    } catch {
      // see above
    }
  }

  private writableSegment(): Segment {
    const seg = this.segments.last ?? this.createSegment(this.startId);
    if (this.writer.open(seg)) this.assertDescriptorsInFolder(seg.baseId, false);
    return seg;
  }

  /** Creates the files of a new last segment at `base` and opens them for writing. */
  private createSegment(base: number): Segment {
    // Files are created and opened by path: the folder is checked before, and again once the descriptors are open
    // (from then on they are pinned to their files, wherever the folder goes).
    this.lease.folder.assertUnchanged();
    const seg = this.segments.create(base, this.options.flushBehavior !== 'buffered');
    this.writer.open(seg);
    this.assertDescriptorsInFolder(base, true);
    return seg;
  }

  /**
   * TOPIC_NOT_FOUND when the partition folder was replaced (topic deleted and created again) while segment `base`
   * was opened by path: its descriptors may be files of the new folder, which nothing of this handle may write. Files
   * this handle just created there (`created`) are removed again.
   */
  private assertDescriptorsInFolder(base: number, created: boolean): void {
    if (!this.lease.folder.replaced()) return;
    this.writer.close();
    if (created) {
      const p = segmentPaths(this.dir, base);
      for (const file of [p.index, p.meta, p.data]) fs.rmSync(file, { force: true });
    }
    throw this.lease.folder.goneError();
  }

  protected syncToDisk(): void {
    if (!this.writer.sync()) return;
    // Everything up to our end is on disk now. Only recorded while the lease is ours: without it another writer
    // may have recorded a later end that ours must not overwrite (a stale durable end only makes recovery after a
    // power loss less strict, never wrong).
    try {
      if (this.lease.lock.isHeld && this.pointWriter !== null) this.pointWriter.write(this.endId, this.endId);
    } catch {
      // The data is durable; an older durable end in the point only makes recovery after a power loss less strict.
    }
  }

  /**
   * With the lock held: catch up with other writers' commits, refuse to append to a damaged partition
   * (CORRUPTION: ids must never be handed out twice), cut a torn tail a dead writer left, and bring the recovery
   * point up to date (re-creating it when it is missing or invalid).
   */
  protected syncUnderLock(): void {
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
    const last = this.segments.last;
    let found = this.endId;
    if (last !== undefined) {
      if (this.writer.segment !== null && this.writer.segment !== last) this.writer.close();
      const cut = repairTail(last, guard, this.index);
      // Ids the files still had some trace of (cut just now) are not counted again as lost below.
      found = this.endId + (cut?.droppedEntries ?? 0);
      this.recovery = mergeRepair(this.recovery, cut);
    }
    // Timestamps never go back: not below the newest event stored (the last segment may be empty), nor below the
    // newest one retention removed (recorded in the point: with every event removed, no segment remembers it).
    const floor = Math.max(this.segments.newestTimestamp() ?? 0, state.kind === 'ok' ? state.point.timestampFloor : 0);
    this.writer.lastTimestamp = Math.max(this.writer.lastTimestamp, floor);
    this.syncRecoveryPoint(state, found);
    // Its descriptor open before the lease checks the folder once more (storage/partition-core/lease.ts).
    this.pointWriter!.open();
    // retention: a trim that crashed after recording the first id left segments below it: finish it (once per writer;
    // every trim finishes it again).
    if (!this.leftoversRemoved) {
      unlinkSegmentsBelow(this.dir, this.startId);
      this.leftoversRemoved = true;
    }
  }

  // ---------------------------------------------------------------- retention

  /**
   * retention: removes the oldest sealed segments the policy no longer keeps (trim-plan.ts), under the writer lock,
   * in the crash-safe order of retention/segment-trim.ts. A last segment whose oldest event is past the age limit
   * is sealed first (a new empty one starts): it rolls by age as well as by size (segment-summary.ts). `policy` and
   * `ackedFloor` (the lowest id the consumers the policy waits for have not acknowledged; null: none) may be
   * functions, called once the lock is held: a policy or acknowledgements read before another process changed them
   * (or before another trimmer ran) could be stale. `dryRun` plans without the lock.
   */
  trim(
    policy: RetentionPolicy | null | (() => RetentionPolicy | null),
    ackedFloor: number | null | ((policy: RetentionPolicy | null) => number | null),
    now = Date.now(),
    dryRun = false,
  ): TrimPlan {
    this.assertOpen();
    const policyNow = (): RetentionPolicy | null => (typeof policy === 'function' ? policy() : policy);
    const floorNow = (p: RetentionPolicy | null): number | null => (typeof ackedFloor === 'function' ? ackedFloor(p) : ackedFloor);
    if (dryRun) {
      this.refresh();
      const current = policyNow();
      const summaries = summarizeSegments(this.segments.all);
      // As if the last segment were rolled by age: what a real trim would do.
      if (lastSegmentDueToRoll(this.segments.all, current, now)) summaries.push({ baseId: this.endId, endId: this.endId, bytes: 0, newestTimestamp: null });
      return planTrim(summaries, current, floorNow(current), now);
    }
    const lock = this.lease.lock;
    const heldBefore = lock.isHeld;
    this.lease.ensure(() => this.syncUnderLock());
    try {
      const current = policyNow();
      this.setRetentionRoll(current);
      if (lastSegmentDueToRoll(this.segments.all, current, now)) {
        this.writer.close();
        // Its directory entry durable before the first id moves past the old last segment (whatever the flush
        // behavior): a power loss must not leave the point's first id past every segment that survives.
        this.segments.create(this.endId, true);
      }
      const plan = planTrim(summarizeSegments(this.segments.all), current, floorNow(current), now);
      if (plan.firstId > this.startId) {
        this.pointWriter!.writeFirstId(plan.firstId, newestOf(plan.removed));
        trimStepDone(1);
        this.dropSegmentsBelow(plan.firstId);
      }
      unlinkSegmentsBelow(this.dir, this.startId);
      return plan;
    } finally {
      // A lock taken for the trim is given back at once, not left to the idle timer: a trimmer going through the
      // partitions synchronously must never hold one partition's lock while it waits for the next one's (another
      // process doing the same the other way round, e.g. a producer, would wait for it until the lock timeout).
      if (heldBefore) lock.touchLease();
      else lock.release();
    }
  }

  /** retention: forgets segments below `firstId` (their mappings go once no slice refers to them). */
  private dropSegmentsBelow(firstId: number): void {
    const dropped = this.segments.dropBelow(firstId);
    if (this.writer.segment !== null && dropped.includes(this.writer.segment)) this.writer.close();
    this.segmentsChecked = -1;
  }

  /**
   * Structural damage (partition-structure.ts). The whole partition is checked (a readdir and a stat per segment)
   * the first time and whenever the number of segments changed; otherwise only the last segment's files, so that a
   * writer taking the lock often on a partition of many segments does not stat them all each time. A sealed
   * segment damaged later is still found by reads and verify(), and cannot make an id be handed out twice.
   */
  private structureDamage(firstId: number | null, guard: number | null): VerifyProblem[] {
    const last = this.segments.last;
    const count = this.segments.all.length;
    if (this.segmentsChecked !== count || last === undefined) {
      const damage = structureProblems(this.dir, firstId, guard);
      if (damage.length === 0) this.segmentsChecked = count;
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
    const first = this.startId;
    const point = { firstId: first, committedEnd: end, durableEnd: first, bootId: currentBootId(), timestampFloor: 0 };
    this.pointWriter ??= new RecoveryPointWriter(this.dir, { ...point });
    this.pointWriter.point = point;
    this.pointWriter.write(end);
    const file = recoveryPointPath(this.dir);
    if (state.kind === 'invalid') fs.truncateSync(file, this.pointWriter.size);
    if (state.kind === 'invalid' || this.segments.all.length > 0) {
      const why = state.kind === 'invalid' ? state.reason : `${file} is missing (a topic of an earlier version, or a deleted file)`;
      const note = `${why}: the tail was checked with checksums only; recovery point re-created at end ${end}`;
      this.recovery = mergeReports(this.recovery, {
        partition: this.index, firstCutId: null, droppedEntries: 0, droppedBytes: 0, notes: [note], cuts: [], truncated: false,
      });
    }
  }

  /** After a failed write: cut what was not committed (best effort) and close the descriptors. */
  protected abortWrite(): void {
    try {
      const last = this.segments.last;
      if (this.lease.lock.isHeld && last !== undefined) {
        last.catchUp();
        this.recovery = mergeReports(this.recovery, repairTail(last, this.pointWriter?.point.committedEnd ?? null, this.index));
      }
    } finally {
      this.writer.close();
    }
  }

  // ---------------------------------------------------------------- reading

  protected eventAt(id: number): NativeStoredEvent {
    return this.records.at(id);
  }

  protected eventsIn(from: number, stop: number): NativeStoredEvent[] {
    return this.records.range(from, stop);
  }

  protected override runIn(from: number, stop: number): SegmentRun | NativeStoredEvent[] {
    return this.records.run(from, stop);
  }

  findByTime(ms: number): number {
    this.assertOpen();
    if (typeof ms !== 'number' || Number.isNaN(ms)) throw new TypeError('findByTime() takes a number of ms');
    this.refresh();
    const segs = this.segments.all;
    // Segments by the timestamp of their last entry, then entries within the chosen one.
    let lo = 0;
    let hi = segs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const seg = segs[mid]!;
      seg.ensureCounted();
      const last = seg.lastTimestamp();
      if (last === null || last < ms) lo = mid + 1;
      else hi = mid;
    }
    if (lo === segs.length) return this.endId;
    const seg = segs[lo]!;
    // retention: never an id below the first id (a segment holding ids below it, or one another trim just removed).
    return Math.max(seg.baseId + seg.firstAtOrAfter(ms), this.startId);
  }

  protected formatStats(): FormatStats {
    const segs = this.segments.all;
    let metadataBytes = 0;
    let dataBytes = 0;
    let firstTimestamp: number | null = null;
    // Counts and last entries only: a monitoring loop calling stats() (consumer.lag() does) on a long partition
    // must not load every segment's index into memory and keep it there.
    for (const seg of segs) {
      seg.ensureCounted();
      metadataBytes += seg.metaEnd();
      dataBytes += seg.dataEnd();
      if (firstTimestamp === null && seg.count > 0) firstTimestamp = entryTimestamp(seg.entryBytes(0), 0);
    }
    let lastTimestamp: number | null = null;
    for (let i = segs.length - 1; i >= 0 && lastTimestamp === null; i--) lastTimestamp = segs[i]!.lastTimestamp();
    return { metadataBytes, dataBytes, segments: segs.length, firstTimestamp, lastTimestamp };
  }

  verify(): VerifyProblem[] {
    this.assertOpen();
    this.lease.folder.assertUnchanged(); // by path: never another topic's files
    return verifyPartition(this.dir);
  }

  /** A commit ends with its index entries (metadata and data are written before them, the recovery point after). */
  protected override isCommitFile(name: string): boolean {
    return name.endsWith('.index');
  }

  protected closeFiles(): void {
    try {
      this.writer.close();
    } finally {
      this.pointWriter?.close();
      this.pointReader.close();
      this.segments.close();
    }
  }
}
