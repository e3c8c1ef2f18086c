// The shape of a partition's id range, checked from file names and sizes only (no entry is read): every segment
// has its three files, the first segment starts at the partition's recorded first id, and each sealed segment
// holds exactly the entries up to the next segment's base. A break in that shape means committed events are
// missing: it is CORRUPTION (a writer refuses to append, verify() lists it), never a silent new start.
import { ENTRY_SIZE } from './index-entry.js';
import { listSegmentBases, listSegmentFiles, segmentPaths } from './segment-files.js';
import type { VerifyProblem } from './types.js';
import { sizeOrNull } from './fs-helpers.js';

/**
 * retention: whether segment `bases[i]` is what a trim interrupted by a crash left below first id `firstId` (the
 * first id is recorded before segments are unlinked): it ends at or below the first id. Its end is the next
 * segment's base, or for the last segment the entries its index holds: a trim's roll whose new segment a power
 * loss took (its directory entry not yet durable) leaves the old last segment ending exactly at the first id, and
 * the partition empty from there on (the next writer creates the segment at the first id; no id is reused).
 */
export function isTrimLeftover(dir: string, bases: readonly number[], i: number, firstId: number | null): boolean {
  const base = bases[i]!;
  if (firstId === null || base >= firstId) return false;
  const next = bases[i + 1];
  if (next !== undefined) return next <= firstId;
  return base + Math.floor((sizeOrNull(segmentPaths(dir, base).index) ?? 0) / ENTRY_SIZE) <= firstId;
}

/**
 * Structural damage of partition folder `dir`. `firstId` is the first id the recovery point records (null when
 * there is no usable point); `recordedEnd` the end it protects (null likewise). Files of a segment whose index was
 * never created (a writer died while creating it), with empty metadata/data files, are not damage wherever they lie.
 * `unlocked` (verify, which takes no lock): a writer may be creating segments meanwhile, so files missing from a
 * segment at or past the recorded end are not damage either (under the writer lock they are: nothing is appended there).
 */
export function structureProblems(dir: string, firstId: number | null, recordedEnd: number | null, unlocked = false): VerifyProblem[] {
  const problems: VerifyProblem[] = [];
  const files = listSegmentFiles(dir);
  // Interrupted segment creations (segment-files.ts) are left out wherever they lie: nothing was committed in them.
  // From the same listing: a segment created between two listings (an append's or a trim's roll) had no entry in
  // `files` (a TypeError below) or only some of its files (reported missing).
  const all = listSegmentBases(dir, files);
  // retention: segments wholly below the recorded first id are what a trim interrupted by a crash left: not damage,
  // removed by the next writer. A segment holding the first id itself is never taken for one.
  const bases = all.filter((_, i) => !isTrimLeftover(dir, all, i, firstId));
  if (bases.length === 0) {
    if (firstId !== null && recordedEnd !== null && recordedEnd > firstId) {
      problems.push({
        file: segmentPaths(dir, firstId).index, offset: 0, id: firstId,
        message: `every segment file is missing, but the recovery point records events ${firstId}..${recordedEnd - 1}`,
      });
    }
    return problems;
  }
  if (firstId !== null && bases[0] !== firstId) {
    // Named by the segment that should start at the first id: that one is missing (an older one is no substitute).
    problems.push({
      file: segmentPaths(dir, firstId).index, offset: 0, id: firstId,
      message: bases[0]! > firstId
        ? `segments holding ids ${firstId}..${bases[0]! - 1} are missing (the partition starts at id ${firstId})`
        : `segment ${firstId} is missing: the partition starts at id ${firstId} but segment ${bases[0]} starts before it`,
    });
  }
  for (let s = 0; s < bases.length; s++) {
    const base = bases[s]!;
    const kinds = files.get(base)!;
    const paths = segmentPaths(dir, base);
    // Unlocked, a segment at or past the recorded end holds nothing committed yet: a live writer may be creating it
    // (its metadata and data files come before its index).
    const uncommitted = unlocked && recordedEnd !== null && base >= recordedEnd;
    for (const kind of ['index', 'meta', 'data'] as const) {
      if (!kinds.has(kind) && !uncommitted) problems.push({ file: paths[kind], offset: 0, id: base, message: `segment file is missing` });
    }
    const next = bases[s + 1];
    if (next !== undefined && kinds.has('index')) {
      const size = sizeOrNull(paths.index) ?? 0;
      const expected = (next - base) * ENTRY_SIZE;
      if (size < expected) {
        problems.push({
          file: paths.index, offset: size - (size % ENTRY_SIZE), id: base + Math.floor(size / ENTRY_SIZE),
          message: `sealed segment holds ${Math.floor(size / ENTRY_SIZE)} entries but the next segment starts at id ${next} (ids ${base + Math.floor(size / ENTRY_SIZE)}..${next - 1} are missing)`,
        });
      }
    }
  }
  return problems;
}
