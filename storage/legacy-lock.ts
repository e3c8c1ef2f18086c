// Leftovers of the previous lock format: a proper-lockfile directory (`writer.lock`, `NNNNNNNN.claim`) with the
// holder's identity in a file beside it (`<dir>.owner`). A process of that older version may still be running;
// its lock is respected while its holder lives, and removed once the holder is dead, so that a leftover never
// blocks anyone forever. (Old and new versions do not see each other's new locks: run one version per topic.)
import fs from 'node:fs';
import { isProcessDead, readOwner, type ProcessIdentity } from './process-liveness.js';

/** The old format's default staleness: an old lock directory without an owner file is dead after this. */
export const LEGACY_STALE_MS = 5000;

/** An old-format lock that still counts: its holder is alive, or unknown and the directory is fresh. */
export interface LegacyHolder {
  lockDir: string;
  owner: ProcessIdentity | null;
}

function sameProcess(a: ProcessIdentity, b: ProcessIdentity | null): boolean {
  return b !== null && a.pid === b.pid && a.start === b.start;
}

/**
 * Null when no old-format lock stands in the way (a dead one is removed on the way); otherwise who holds it.
 * One stat when there is no leftover, which is the usual case.
 */
export function legacyHolder(lockDir: string, staleMs = LEGACY_STALE_MS): LegacyHolder | null {
  const st = fs.statSync(lockDir, { throwIfNoEntry: false });
  if (st === undefined || !st.isDirectory()) return null;
  const ownerFile = `${lockDir}.owner`;
  const owner = readOwner(ownerFile);
  if (owner === null ? Date.now() - st.mtimeMs < staleMs : !isProcessDead(owner)) return { lockDir, owner };
  try {
    fs.rmdirSync(lockDir);
  } catch {
    // Gone already, or not an old lock directory after all (not empty): it does not take part in locking anyway.
  }
  // Drop the owner file only if it still names the dead holder (never a file some other process wrote meanwhile).
  try {
    if (owner !== null && sameProcess(owner, readOwner(ownerFile))) fs.rmSync(ownerFile, { force: true });
  } catch {
    // A read-only copy: the leftover stays, and is judged the same way next time.
  }
  return null;
}
