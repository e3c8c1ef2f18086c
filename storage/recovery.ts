// Crash recovery of a partition's last segment, run only by a writer holding the writer lock (so no other writer
// is active; read-only opens never run it). Whatever lies past the last committed entry AND at or above the
// partition's protected end (the recovery point, see recovery-point.ts) is a torn tail: partial or
// checksum-failing index entries, entries whose bytes are missing from the metadata/data files (possible after
// power loss), and metadata/data bytes written by a writer that died before writing their entries. Those are cut
// and reported. The same damage below the protected end is committed data that was lost or damaged: CORRUPTION,
// nothing cut, and the append fails (the writer cannot know where the log ends, so it must not reuse ids).
// A bad entry followed by good ones is corruption wherever it is: never cut, reads of it fail, verify() lists it.
import fs from 'node:fs';
import { ENTRY_SIZE } from './index-entry.js';
import type { Segment } from './segment.js';
import { StorageError, type RecoveryCut, type RecoveryReport } from './types.js';

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
}

/** CORRUPTION for damage at the tail of the last segment that lies below the protected end. */
function committedDamage(seg: Segment, pos: number, what: string, protectedEnd: number): StorageError {
  const id = seg.baseId + pos;
  return new StorageError('CORRUPTION',
    `${seg.paths.index}: the index entry of event ${id} at offset ${pos * ENTRY_SIZE} ${what}, but the recovery point ` +
      `records events up to ${protectedEnd - 1} as committed; nothing was cut and no append is accepted`,
    { file: seg.paths.index, offset: pos * ENTRY_SIZE, id });
}

const PROBLEM_TEXT = { checksum: 'fails its checksum', 'past-end': 'points past the end of the metadata/data files' } as const;
const ORPHAN_REASON = 'bytes past the last committed entry (written by a writer that died before committing them)';

/** What lies in the files past the first `keep` entries of `seg`; cut when `cut` is true, else only described. */
interface TailExcess {
  notes: string[];
  cuts: RecoveryCut[];
  /** Whole and partial index entries past `keep`. */
  entries: number;
  /** Orphan metadata/data bytes. */
  bytes: number;
}

/**
 * Index bytes past entry `keep` (`torn` of them entries that looked committed) and metadata/data bytes past the
 * last kept entry's: cut (`cut` true, under the writer lock) or only found and left for the next writer.
 */
function tailExcess(seg: Segment, keep: number, torn: number, sizes: { index: number; meta: number; data: number }, cut: boolean): TailExcess {
  const out: TailExcess = { notes: [], cuts: [], entries: 0, bytes: 0 };
  const left = cut ? '' : '; left in place, the next writer cuts them';
  const keepIndex = keep * ENTRY_SIZE;
  if (sizes.index > keepIndex) {
    const past = sizes.index - (keep + torn) * ENTRY_SIZE;
    const whole = Math.floor(past / ENTRY_SIZE);
    const partial = past % ENTRY_SIZE;
    out.entries = torn + whole + (partial > 0 ? 1 : 0);
    const tornText = cut ? `${torn} torn committed-looking entr${torn === 1 ? 'y' : 'ies'}, ` : '';
    const reason = `${tornText}${whole} uncommitted whole entr${whole === 1 ? 'y' : 'ies'}, ${partial} bytes of a partial entry`;
    out.notes.push(`${seg.paths.index}: ${cut ? 'cut ' : ''}${sizes.index - keepIndex} ${cut ? '' : 'torn '}bytes from offset ${keepIndex} (${reason})${left}`);
    out.cuts.push({ file: seg.paths.index, offset: keepIndex, bytes: sizes.index - keepIndex, reason });
    if (cut) fs.truncateSync(seg.paths.index, keepIndex);
  }
  if (cut) seg.truncateTo(keep);
  const metaEnd = seg.metaEnd();
  const dataEnd = seg.dataEnd();
  for (const [file, size, end] of [[seg.paths.meta, sizes.meta, metaEnd], [seg.paths.data, sizes.data, dataEnd]] as const) {
    if (size <= end) continue;
    out.bytes += size - end;
    out.notes.push(`${file}: ${cut ? 'cut ' : ''}${size - end} orphan bytes from offset ${end}${left}`);
    out.cuts.push({ file, offset: end, bytes: size - end, reason: ORPHAN_REASON });
    if (cut) fs.truncateSync(file, end);
  }
  return out;
}

function report(partition: number, firstCutId: number, excess: TailExcess, notes: string[], truncated: boolean): RecoveryReport | null {
  if (notes.length + excess.notes.length === 0) return null;
  return {
    partition, firstCutId: excess.entries > 0 ? firstCutId : null, droppedEntries: excess.entries, droppedBytes: excess.bytes,
    notes: [...notes, ...excess.notes], cuts: excess.cuts, truncated,
  };
}

function sizesOf(seg: Segment): { index: number; meta: number; data: number } {
  return { index: fileSize(seg.paths.index), meta: fileSize(seg.paths.meta), data: fileSize(seg.paths.data) };
}

/**
 * Cuts the torn tail of `seg` (the partition's last segment, already caught up) above `protectedEnd` (null: no
 * usable recovery point, every bad tail entry is torn). Throws CORRUPTION, cutting nothing, when the tail is
 * damaged below it. Null when nothing was cut.
 */
export function repairTail(seg: Segment, protectedEnd: number | null, partition: number): RecoveryReport | null {
  const floor = protectedEnd ?? 0;
  if (seg.missingFrom !== null && seg.baseId + seg.missingFrom < floor) {
    throw committedDamage(seg, seg.missingFrom, 'is missing', floor);
  }
  const sizes = sizesOf(seg);
  const notes: string[] = [];
  // Entries at the tail whose bytes never reached the files, or that are corrupt with nothing valid after them.
  let count = seg.count;
  for (let problem; count > 0 && (problem = seg.tailEntryProblem(count - 1, sizes.meta, sizes.data)) !== null; count--) {
    const pos = count - 1;
    if (seg.baseId + pos < floor) throw committedDamage(seg, pos, PROBLEM_TEXT[problem], floor);
    notes.push(`${seg.paths.index}: entry at offset ${pos * ENTRY_SIZE} (event ${seg.baseId + pos}) ${PROBLEM_TEXT[problem]} and ends the log; dropped`);
  }
  const excess = tailExcess(seg, count, seg.count - count, sizes, true);
  return report(partition, seg.baseId + count, excess, notes, true);
}

/**
 * What the next writer's repair will cut from `seg` (the last segment), found by a read-only open without touching
 * anything: a partial index entry and metadata/data bytes past the last committed entry. Call only when no live
 * writer holds the lock (a live writer's batch in progress looks the same). Null when the tail is clean.
 */
export function findTornTail(seg: Segment, partition: number): RecoveryReport | null {
  return report(partition, seg.endId, tailExcess(seg, seg.count, 0, sizesOf(seg), false), [], false);
}
