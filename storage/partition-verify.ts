// Full check of a partition's files, independent of any cached state: every segment, every entry, every checksum
// (including data). Used by PartitionLog.verify() and by tools; reports problems instead of throwing.
import fs from 'node:fs';
import path from 'node:path';
import { crc32 } from './crc.js';
import { ENTRY_SIZE, decodeEntry, entryIsValid } from './index-entry.js';
import { listSegmentBases, segmentPaths } from './segment-files.js';
import { MappedFile } from './segment-reader.js';
import type { VerifyProblem } from './types.js';
import { protectedEnd, readRecoveryPoint, recoveryPointPath } from './recovery-point.js';
import { isTrimLeftover, structureProblems } from './partition-structure.js';
import { sizeOrNull } from './fs-helpers.js';

/** How many times a check that a trim in another process overlapped and that threw is run again. */
const PASSES_AFTER_TRIM = 3;

/**
 * Checks a partition's files. A trim in another process may move the first id and unlink segments while the check
 * runs (no lock is taken): what it found about segments that are below the first id once it is done (missing files,
 * a short sealed segment, a first segment missing, a file it could not open) is no damage but what retention removed
 * meanwhile, and is not reported; a check that threw on such a file is run again.
 */
export function verifyPartition(dir: string): VerifyProblem[] {
  // Problems of the previous pass, while a pass that found some is checked again (see below).
  let earlier: Set<string> | null = null;
  for (let pass = 1; ; pass++) {
    const before = firstIdOf(readRecoveryPoint(dir));
    let problems: VerifyProblem[] = [];
    let failure: unknown = null;
    try {
      problems = verifyOnce(dir);
    } catch (err) {
      failure = err;
    }
    const after = firstIdOf(readRecoveryPoint(dir));
    const trimmed = after !== null && (before === null || after > before);
    if (!trimmed) {
      if (failure !== null) throw failure;
      // Beside a live writer a listing can catch a roll half-seen (readdir may show a segment created just now and
      // miss the one created just before it): a problem is reported when the next pass finds it again, as damage does.
      if (problems.length === 0) return problems;
      if (earlier !== null) {
        const found = earlier;
        return problems.filter((p) => found.has(problemKey(p)));
      }
      earlier = new Set(problems.map(problemKey));
      continue;
    }
    if (failure === null) return problems.filter((p) => !belowFirstId(p.file, after));
    if (pass >= PASSES_AFTER_TRIM) throw failure;
  }
}

function problemKey(p: VerifyProblem): string {
  return `${p.file}\0${p.offset}\0${p.message}`;
}

function firstIdOf(point: ReturnType<typeof readRecoveryPoint>): number | null {
  return point.kind === 'ok' ? point.point.firstId : null;
}

const SEGMENT_FILE = /^(\d{20})\.(index|meta|data)$/;

/** True when `file` is a segment file of a segment that starts below `firstId` (removed by retention, or about to be). */
function belowFirstId(file: string, firstId: number): boolean {
  const m = SEGMENT_FILE.exec(path.basename(file));
  return m !== null && Number(m[1]) < firstId;
}

function verifyOnce(dir: string): VerifyProblem[] {
  const problems: VerifyProblem[] = [];
  const point = readRecoveryPoint(dir);
  const firstId = point.kind === 'ok' ? point.point.firstId : null;
  // retention: segments below the recorded first id are an interrupted trim's leftovers (partition-structure.ts).
  const all = listSegmentBases(dir);
  const bases = all.filter((_, i) => !isTrimLeftover(dir, all, i, firstId));
  // A missing point is not a problem here: topics of the earlier version have none (the next writer creates it and
  // says so in its recovery report). A damaged one is.
  if (point.kind === 'invalid') problems.push({ file: recoveryPointPath(dir), offset: 0, message: point.reason });
  const guard = protectedEnd(point);
  problems.push(...structureProblems(dir, firstId, guard, true));
  // From the recorded first id (ids below it were trimmed): with no segment left nothing is missing below it.
  let end = firstId ?? bases[0] ?? 0;
  // Timestamps never decrease across the whole partition, from the newest one retention removed on.
  let lastTs = point.kind === 'ok' ? point.point.timestampFloor : 0;
  let lastTsFrom: 'floor' | 'event' = 'floor';
  for (let s = 0; s < bases.length; s++) {
    const base = bases[s]!;
    const paths = segmentPaths(dir, base);
    let index: Buffer;
    try {
      index = fs.readFileSync(paths.index);
    } catch {
      continue; // reported as a missing file above
    }
    // Sizes after the index: a writer writes an entry's bytes before the entry, so every entry read has its bytes
    // below these sizes (measured before, a live writer's new entries pointed past them).
    const metaSize = sizeOrNull(paths.meta);
    const dataSize = sizeOrNull(paths.data);
    const whole = Math.floor(index.length / ENTRY_SIZE);
    // A partial entry at the very end, at or above the protected end, is a torn tail (or a batch being written):
    // reported as recovery, cut by the next writer; not damage.
    const tornTail = s === bases.length - 1 && base + whole >= (guard ?? 0);
    if (index.length % ENTRY_SIZE !== 0 && !tornTail) {
      problems.push({ file: paths.index, offset: whole * ENTRY_SIZE, message: `partial index entry (${index.length % ENTRY_SIZE} bytes) at the end` });
    }
    const next = bases[s + 1];
    if (next !== undefined && whole > next - base) {
      problems.push({
        file: paths.index, offset: (next - base) * ENTRY_SIZE,
        message: `segment holds ${whole} entries but the next segment starts at id ${next} (expected ${next - base})`,
      });
    }
    end = base + whole;
    // Mapped as sealed (the size at the look, no growth headroom): a verify of thousands of segments otherwise made
    // a 64 MiB mapping per file, and mmap and V8's external-memory GCs slowed it to ~2 ms a segment (26 s for 12k).
    const meta = new MappedFile(paths.meta);
    const data = new MappedFile(paths.data);
    meta.seal();
    data.seal();
    let expectMeta = 0;
    let expectData = 0;
    // After an unreadable entry the next one cannot be checked for contiguity.
    let afterBad = false;
    try {
      for (let i = 0; i < whole; i++) {
        const at = i * ENTRY_SIZE;
        const id = base + i;
        if (!entryIsValid(index, at)) {
          problems.push({ file: paths.index, offset: at, id, message: 'index entry fails its checksum' });
          afterBad = true;
          continue;
        }
        const e = decodeEntry(index, at);
        if (!afterBad && (e.metaOffset !== expectMeta || e.dataOffset !== expectData)) {
          problems.push({ file: paths.index, offset: at, id, message: `entry is not contiguous with the previous one (meta ${e.metaOffset} vs ${expectMeta}, data ${e.dataOffset} vs ${expectData})` });
        }
        afterBad = false;
        expectMeta = e.metaOffset + e.metaLength;
        expectData = e.dataOffset + e.dataLength;
        if (e.timestamp < lastTs) {
          const what = lastTsFrom === 'floor' ? `the newest event retention removed (${lastTs}, recorded in ${recoveryPointPath(dir)})` : `the event before (${lastTs})`;
          problems.push({ file: paths.index, offset: at, id, message: `timestamp goes backwards: ${e.timestamp} is earlier than ${what}` });
        }
        lastTs = e.timestamp;
        lastTsFrom = 'event';
        if (metaSize !== null && expectMeta > metaSize) {
          problems.push({ file: paths.meta, offset: e.metaOffset, id, message: `metadata range ends at ${expectMeta}, past the end of the file (${metaSize})` });
        } else if (metaSize !== null && e.metaLength > 0 && crc32(meta.cover(expectMeta).subarray(e.metaOffset, expectMeta)) !== e.metaCrc) {
          problems.push({ file: paths.meta, offset: e.metaOffset, id, message: 'metadata fails its checksum' });
        } else if (e.metaLength === 0 && e.metaCrc !== 0) {
          problems.push({ file: paths.meta, offset: e.metaOffset, id, message: 'metadata fails its checksum' });
        }
        if (dataSize !== null && expectData > dataSize) {
          problems.push({ file: paths.data, offset: e.dataOffset, id, message: `data range ends at ${expectData}, past the end of the file (${dataSize})` });
        } else if (dataSize !== null && e.dataLength > 0 && crc32(data.cover(expectData).subarray(e.dataOffset, expectData)) !== e.dataCrc) {
          problems.push({ file: paths.data, offset: e.dataOffset, id, message: 'data fails its checksum' });
        }
      }
    } finally {
      meta.close();
      data.close();
    }
  }
  if (guard !== null && guard > end) {
    const last = bases[bases.length - 1];
    problems.push({
      file: last === undefined ? recoveryPointPath(dir) : segmentPaths(dir, last).index,
      offset: last === undefined ? 0 : (end - last) * ENTRY_SIZE, id: end,
      message: `the recovery point records events up to ${guard - 1} as committed, but the index files end at ${end - 1}`,
    });
  }
  return problems;
}
