// Crash recovery of a partition's last segment, run by whoever holds the writer lock (so no writer is active).
// Whatever lies past the last committed entry is a torn tail: partial or checksum-failing index entries, entries
// whose bytes are missing from the metadata/data files (possible after power loss), and metadata/data bytes
// written by a writer that died before writing their entries. Those are cut and reported. A bad entry followed
// by good ones is corruption, which is never cut: reads of it fail with CORRUPTION and verify() reports it.
import fs from 'node:fs';
import { ENTRY_SIZE, entryMetaEnd, entryDataEnd } from './index-entry.js';
import type { Segment } from './segment.js';
import type { RecoveryReport } from './types.js';

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
}

function truncateIfLonger(file: string, size: number, keep: number): void {
  if (size > keep) fs.truncateSync(file, keep);
}

/** Cuts the torn tail of `seg` (the partition's last segment, already caught up). Null when nothing was cut. */
export function repairTail(seg: Segment): RecoveryReport | null {
  const notes: string[] = [];
  let droppedEntries = 0;
  let droppedBytes = 0;
  const metaSize = fileSize(seg.paths.meta);
  const dataSize = fileSize(seg.paths.data);

  // Entries at the tail whose bytes never reached the files, or that are corrupt with nothing valid after them.
  let count = seg.count;
  while (count > 0) {
    const pos = count - 1;
    const at = pos * ENTRY_SIZE;
    const entry = seg.entryBytes(pos);
    if (seg.bad?.has(pos)) {
      notes.push(`${seg.paths.index}: entry at offset ${at} fails its checksum and ends the log; dropped`);
    } else if (entryMetaEnd(entry, 0) > metaSize || entryDataEnd(entry, 0) > dataSize) {
      notes.push(`${seg.paths.index}: entry at offset ${at} points past the end of the metadata/data files; dropped`);
    } else {
      break;
    }
    count--;
  }
  const indexSize = fileSize(seg.paths.index);
  const keepIndex = count * ENTRY_SIZE;
  if (indexSize > keepIndex) {
    const cut = indexSize - keepIndex;
    const whole = Math.floor((indexSize - seg.count * ENTRY_SIZE) / ENTRY_SIZE);
    const partial = (indexSize - seg.count * ENTRY_SIZE) % ENTRY_SIZE;
    droppedEntries += seg.count - count + whole + (partial > 0 ? 1 : 0);
    notes.push(
      `${seg.paths.index}: cut ${cut} bytes from offset ${keepIndex}` +
        ` (${whole} uncommitted whole entr${whole === 1 ? 'y' : 'ies'}, ${partial} bytes of a partial entry)`,
    );
    fs.truncateSync(seg.paths.index, keepIndex);
  }
  seg.truncateTo(count);

  const metaEnd = seg.metaEnd();
  const dataEnd = seg.dataEnd();
  if (metaSize > metaEnd) {
    droppedBytes += metaSize - metaEnd;
    notes.push(`${seg.paths.meta}: cut ${metaSize - metaEnd} orphan bytes from offset ${metaEnd}`);
  }
  if (dataSize > dataEnd) {
    droppedBytes += dataSize - dataEnd;
    notes.push(`${seg.paths.data}: cut ${dataSize - dataEnd} orphan bytes from offset ${dataEnd}`);
  }
  truncateIfLonger(seg.paths.meta, metaSize, metaEnd);
  truncateIfLonger(seg.paths.data, dataSize, dataEnd);
  return notes.length === 0 ? null : { droppedEntries, droppedBytes, notes };
}

/** Adds `more` to `into` (null meaning nothing dropped yet). */
export function mergeReports(into: RecoveryReport | null, more: RecoveryReport | null): RecoveryReport | null {
  if (more === null) return into;
  if (into === null) return { ...more, notes: [...more.notes] };
  return {
    droppedEntries: into.droppedEntries + more.droppedEntries,
    droppedBytes: into.droppedBytes + more.droppedBytes,
    notes: [...into.notes, ...more.notes],
  };
}
