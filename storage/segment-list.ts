// The segments of a native partition and its first id: the one place that knows which segments exist, where the
// partition starts (`startId`, recorded in recovery.point as `firstId`) and which segment holds an id. Retention
// (dropping sealed segments, moving the first id forward) changes this file.
import fs from 'node:fs';
import { ENTRY_SIZE } from './index-entry.js';
import { Segment } from './segment.js';
import { fsyncDir, listSegmentBases, segmentPaths } from './segment-files.js';
import type { RecoveryPointState } from './recovery-point.js';
import { isTrimLeftover } from './partition-structure.js';
import { StorageError } from './types.js';

export class SegmentList {
  /** First id of the partition: the recorded first id wins over the files (a vanished first segment must not make the log start later). */
  startId: number;
  readonly all: Segment[] = [];
  private lastUsed: Segment | null = null;

  constructor(private readonly dir: string, point: RecoveryPointState) {
    const bases = listSegmentBases(dir);
    this.startId = point.kind === 'ok' ? point.point.firstId : bases[0] ?? 0;
    for (let i = 0; i < bases.length; i++) {
      // retention: segments wholly below the first id are an interrupted trim's leftovers, not part of the log.
      if (isTrimLeftover(dir, bases, i, this.startId)) continue;
      const seg = new Segment(dir, bases[i]!);
      if (i + 1 < bases.length) seg.seal(bases[i + 1]! - bases[i]!);
      this.all.push(seg);
    }
  }

  get last(): Segment | undefined {
    return this.all[this.all.length - 1];
  }

  get endId(): number {
    const last = this.last;
    return last === undefined ? this.startId : last.endId;
  }

  /**
   * Reads entries other processes committed, following them into new segments; true if any was found.
   * `committedEnd`: the end the recovery point (read before the index) records, or null to look for a new segment
   * whenever the last one has nothing new. Once the known segments reach it, no successor is looked for: a writer
   * commits a new segment's first batch by writing a recovery point past the old segment's end, which wakes readers
   * again. (This saves a stat and an fstat per refresh of a tailing reader; writers, under the lock, pass null.)
   */
  catchUp(committedEnd: number | null = null): boolean {
    let grew = false;
    for (;;) {
      const last = this.last;
      if (last !== undefined && last.catchUp() > 0) {
        grew = true;
        if (committedEnd !== null && last.endId >= committedEnd) return grew;
        continue;
      }
      if (committedEnd !== null && last !== undefined && last.endId >= committedEnd) return grew;
      // Nothing new in the last segment: has a writer rolled over to a new one? (Writers only roll away from a
      // non-empty segment, so an empty last segment cannot have a successor.)
      if (last !== undefined && last.count === 0) return grew;
      const nextBase = last === undefined ? this.startId : last.endId;
      if (!fs.existsSync(segmentPaths(this.dir, nextBase).index)) return grew;
      if (last !== undefined) last.seal(last.count);
      this.all.push(new Segment(this.dir, nextBase));
    }
  }

  /**
   * Timestamp of the newest event the segments hold (null: none holds any). Looks back past empty segments: a last
   * segment rolled by age, or created by a writer that died before its first batch, holds no event, and the writer
   * must still not go back in time (sealed segments keep their count once read: later calls cost nothing).
   */
  newestTimestamp(): number | null {
    for (let i = this.all.length - 1; i >= 0; i--) {
      const seg = this.all[i]!;
      seg.ensureCounted();
      const ts = seg.lastTimestamp();
      if (ts !== null) return ts;
    }
    return null;
  }

  /** Makes the end at least `end` (ids the recovery point records as committed: they read as CORRUPTION if lost). */
  extendTo(end: number): void {
    if (end <= this.endId) return;
    let last = this.last;
    if (last === undefined) {
      last = new Segment(this.dir, this.startId);
      this.all.push(last);
    }
    last.extendTo(end - last.baseId);
  }

  /** Creates the files of a new last segment (metadata and data first: the index file is what makes it exist). */
  create(baseId: number, syncDir: boolean): Segment {
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
    if (syncDir) fsyncDir(this.dir);
    const seg = new Segment(this.dir, baseId);
    const last = this.last;
    if (last !== undefined) last.seal(last.count);
    this.all.push(seg);
    return seg;
  }

  /** The segment holding committed id `id` (startId <= id < endId), its index entry cached. */
  segmentFor(id: number): Segment {
    const cached = this.lastUsed;
    if (cached !== null && id >= cached.baseId && id < cached.endId) {
      cached.ensureCached(id - cached.baseId);
      return cached;
    }
    const segs = this.all;
    let lo = 0;
    let hi = segs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (segs[mid]!.baseId <= id) lo = mid;
      else hi = mid - 1;
    }
    const seg = segs[lo]!;
    if (id < seg.baseId) {
      const missing = segmentPaths(this.dir, this.startId).index;
      throw new StorageError('CORRUPTION', `event ${id} is missing: the partition starts at id ${this.startId} but its first segment file starts at ${seg.baseId} (${missing} is missing)`, {
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
    // A reader moving on releases the sealed segment it read before (cache and mappings: Segment.releaseForReader).
    if (cached !== null && cached !== seg) cached.releaseForReader();
    this.lastUsed = seg;
    return seg;
  }

  /**
   * retention: forgets the segments below `firstId` (trimmed; their mappings go once no slice refers to them) and
   * makes it the start. Returns the segments dropped, retired: their descriptors closed, their mappings kept for
   * records already read from them (closing them made such a record's data() fail with CORRUPTION).
   */
  dropBelow(firstId: number): Segment[] {
    let keep = 0;
    while (keep < this.all.length && this.all[keep]!.baseId < firstId) keep++;
    const dropped = this.all.splice(0, keep);
    for (const seg of dropped) {
      if (this.lastUsed === seg) this.lastUsed = null;
      seg.retire();
    }
    this.startId = firstId;
    return dropped;
  }

  close(): void {
    for (const seg of this.all) seg.close();
  }
}
