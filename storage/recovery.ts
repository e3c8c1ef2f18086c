// Crash recovery of a partition's last segment, run only by a writer holding the writer lock (so no other writer
// is active; read-only opens never run it). Whatever lies past the last committed entry AND at or above the
// partition's protected end (the recovery point, see recovery-point.ts) is a torn tail: partial or
// checksum-failing index entries, entries whose bytes are missing from the metadata/data files (possible after
// power loss), and metadata/data bytes written by a writer that died before writing their entries. Those are cut
// and reported. The same damage below the protected end is committed data that was lost or damaged: CORRUPTION,
// nothing cut, and the append fails (the writer cannot know where the log ends, so it must not reuse ids).
// A bad entry followed by good ones is corruption wherever it is: never cut, reads of it fail, verify() lists it.
import fs from 'node:fs';
import { ENTRY_SIZE, entryMetaEnd, entryDataEnd } from './index-entry.js';
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
  const notes: string[] = [];
  const cuts: RecoveryCut[] = [];
  let droppedEntries = 0;
  let droppedBytes = 0;
  const metaSize = fileSize(seg.paths.meta);
  const dataSize = fileSize(seg.paths.data);

  // Entries at the tail whose bytes never reached the files, or that are corrupt with nothing valid after them.
  let count = seg.count;
  while (count > 0) {
    const pos = count - 1;
    const at = pos * ENTRY_SIZE;
    let why: string;
    if (seg.bad?.has(pos)) {
      why = 'fails its checksum';
    } else {
      const entry = seg.entryBytes(pos);
      if (entryMetaEnd(entry, 0) > metaSize || entryDataEnd(entry, 0) > dataSize) why = 'points past the end of the metadata/data files';
      else break;
    }
    if (seg.baseId + pos < floor) throw committedDamage(seg, pos, why, floor);
    notes.push(`${seg.paths.index}: entry at offset ${at} (event ${seg.baseId + pos}) ${why} and ends the log; dropped`);
    count--;
  }
  const indexSize = fileSize(seg.paths.index);
  const keepIndex = count * ENTRY_SIZE;
  if (indexSize > keepIndex) {
    const cut = indexSize - keepIndex;
    const whole = Math.floor((indexSize - seg.count * ENTRY_SIZE) / ENTRY_SIZE);
    const partial = (indexSize - seg.count * ENTRY_SIZE) % ENTRY_SIZE;
    droppedEntries += seg.count - count + whole + (partial > 0 ? 1 : 0);
    const reason = `${seg.count - count} torn committed-looking entr${seg.count - count === 1 ? 'y' : 'ies'}, ${whole} uncommitted whole entr${whole === 1 ? 'y' : 'ies'}, ${partial} bytes of a partial entry`;
    notes.push(`${seg.paths.index}: cut ${cut} bytes from offset ${keepIndex} (${reason})`);
    cuts.push({ file: seg.paths.index, offset: keepIndex, bytes: cut, reason });
    fs.truncateSync(seg.paths.index, keepIndex);
  }
  seg.truncateTo(count);

  const metaEnd = seg.metaEnd();
  const dataEnd = seg.dataEnd();
  for (const [file, size, end] of [[seg.paths.meta, metaSize, metaEnd], [seg.paths.data, dataSize, dataEnd]] as const) {
    if (size > end) {
      droppedBytes += size - end;
      notes.push(`${file}: cut ${size - end} orphan bytes from offset ${end}`);
      cuts.push({ file, offset: end, bytes: size - end, reason: 'bytes past the last committed entry (written by a writer that died before committing them)' });
      fs.truncateSync(file, end);
    }
  }
  if (notes.length === 0) return null;
  return { partition, firstCutId: droppedEntries > 0 ? seg.baseId + count : null, droppedEntries, droppedBytes, notes, cuts, truncated: true };
}

/**
 * What the next writer's repair will cut from `seg` (the last segment), found by a read-only open without touching
 * anything: a partial index entry and metadata/data bytes past the last committed entry. Call only when no live
 * writer holds the lock (a live writer's batch in progress looks the same). Null when the tail is clean.
 */
export function findTornTail(seg: Segment, partition: number): RecoveryReport | null {
  const notes: string[] = [];
  const cuts: RecoveryCut[] = [];
  let droppedEntries = 0;
  let droppedBytes = 0;
  const keepIndex = seg.count * ENTRY_SIZE;
  const indexSize = fileSize(seg.paths.index);
  if (indexSize > keepIndex) {
    const whole = Math.floor((indexSize - keepIndex) / ENTRY_SIZE);
    const partial = (indexSize - keepIndex) % ENTRY_SIZE;
    droppedEntries = whole + (partial > 0 ? 1 : 0);
    const reason = `${whole} uncommitted whole entr${whole === 1 ? 'y' : 'ies'}, ${partial} bytes of a partial entry`;
    notes.push(`${seg.paths.index}: ${indexSize - keepIndex} torn bytes from offset ${keepIndex} (${reason}); left in place, the next writer cuts them`);
    cuts.push({ file: seg.paths.index, offset: keepIndex, bytes: indexSize - keepIndex, reason });
  }
  for (const [file, end] of [[seg.paths.meta, seg.metaEnd()], [seg.paths.data, seg.dataEnd()]] as const) {
    const size = fileSize(file);
    if (size > end) {
      droppedBytes += size - end;
      notes.push(`${file}: ${size - end} orphan bytes from offset ${end}; left in place, the next writer cuts them`);
      cuts.push({ file, offset: end, bytes: size - end, reason: 'bytes past the last committed entry (written by a writer that died before committing them)' });
    }
  }
  if (notes.length === 0) return null;
  return { partition, firstCutId: droppedEntries > 0 ? seg.endId : null, droppedEntries, droppedBytes, notes, cuts, truncated: false };
}
