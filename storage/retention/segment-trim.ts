// Removing a prefix of segments from a partition folder, crash-safe. The order (each step durable before the next):
//   1. the new first id is written into recovery.point and fsynced;
//   2. the segments below it are unlinked, oldest first;
//   3. the folder is fsynced.
// A crash after step 1 leaves segments below the recorded first id: "a trim not finished", which the structure
// check does not call damage and the next writer (or trim) removes. Before step 1 nothing changed. Files are only
// ever unlinked, never truncated: a reader still mapping one keeps valid bytes (Linux frees the file with its last
// mapping), so slices handed out stay readable.
import fs from 'node:fs';
import path from 'node:path';
import { fsyncDir, listSegmentFileBases, segmentPaths } from '../segment-files.js';
import { readRecoveryPoint } from '../recovery-point.js';
import { sleepSync } from '../writer-lock.js';

/**
 * Test hook: set to k, a process trimming kills itself with SIGKILL right after: 1 the new first id is recorded,
 * 2 the first segment's files are unlinked, 3 all of them are (the folder not yet fsynced). Inert when unset.
 */
export const TRIM_KILL_ENV = 'DIASPORA_TEST_TRIM_KILL_AFTER_STEP';

/** Called after each step: dies there when the test hook asks for it. */
export function trimStepDone(step: number): void {
  if (process.env[TRIM_KILL_ENV] !== String(step)) return;
  process.kill(process.pid, 'SIGKILL');
  for (;;) sleepSync(1000); // the signal is on its way: never go on to the next step
}

/**
 * Steps 2 and 3: unlinks every segment file below `firstId` (already recorded durably in recovery.point), oldest
 * segment first, then fsyncs the folder. Returns how many segments had files to remove. Also finishes a trim
 * that a crash interrupted.
 */
export function unlinkSegmentsBelow(dir: string, firstId: number): number {
  let removed = 0;
  for (const base of listSegmentFileBases(dir)) {
    if (base >= firstId) break;
    const p = segmentPaths(dir, base);
    for (const file of [p.index, p.meta, p.data]) {
      try {
        fs.unlinkSync(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    removed++;
    if (removed === 1) trimStepDone(2);
  }
  if (removed > 0) {
    trimStepDone(3);
    fsyncDir(dir);
  }
  return removed;
}

const SEGMENT_FILE_BASE = /^(\d{20})\.(index|meta|data)$/;

/**
 * True when segment file `file` is gone because retention removed it (its base is below the first id its
 * partition's recovery point records): bytes already mapped from it stay valid (it was unlinked, not truncated).
 */
export function removedByRetention(file: string): boolean {
  const m = SEGMENT_FILE_BASE.exec(path.basename(file));
  if (m === null) return false;
  const point = readRecoveryPoint(path.dirname(file));
  return point.kind === 'ok' && Number(m[1]) < point.point.firstId;
}
