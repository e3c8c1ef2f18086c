// Who holds a lock, and is that process still alive? Locks are taken by processes of this machine, so a holder
// that died (SIGKILL, crash) can be recognised at once from its pid and start time instead of waiting for the
// lock's mtime to go stale. The start time guards against pid reuse.

import fs from 'node:fs';

export interface ProcessIdentity {
  pid: number;
  /** Start time of the process in clock ticks since boot (Linux /proc/<pid>/stat field 22), or null elsewhere. */
  start: string | null;
}

function startTimeOf(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: fields after the last ')' are fixed.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19] ?? null; // field 22 overall
  } catch {
    return null;
  }
}

export function currentProcessIdentity(): ProcessIdentity {
  return { pid: process.pid, start: startTimeOf(process.pid) };
}

/** True when the process is certainly gone (no such pid, or the pid now belongs to a newer process). */
export function isProcessDead(id: ProcessIdentity): boolean {
  try {
    process.kill(id.pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
  if (id.start === null) return false;
  const now = startTimeOf(id.pid);
  return now !== null && now !== id.start;
}

/** Writes the owner file beside a lock (atomically: temp file + rename). */
export function writeOwner(ownerFile: string): void {
  const tmp = `${ownerFile}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(currentProcessIdentity()));
  fs.renameSync(tmp, ownerFile);
}

export function readOwner(ownerFile: string): ProcessIdentity | null {
  try {
    const v = JSON.parse(fs.readFileSync(ownerFile, 'utf8')) as ProcessIdentity;
    return Number.isInteger(v.pid) && v.pid > 0 ? v : null;
  } catch {
    return null;
  }
}

/** Removes the owner file only if it still names this process (never another holder's). */
export function removeOwnIdentity(ownerFile: string): void {
  const owner = readOwner(ownerFile);
  if (owner && owner.pid === process.pid) fs.rmSync(ownerFile, { force: true });
}

/**
 * If the lock directory `lockDir` is held by a process that is dead, moves it out of the way (rename, atomic) so
 * the next attempt can take it. Returns true if it did. A lock without an owner file is left to staleness.
 */
export function breakLockOfDeadHolder(lockDir: string, ownerFile: string): boolean {
  const owner = readOwner(ownerFile);
  if (!owner || owner.pid === process.pid || !isProcessDead(owner)) return false;
  const tomb = `${lockDir}.dead-${process.pid}-${Date.now()}`;
  try {
    fs.renameSync(lockDir, tomb);
  } catch {
    return false; // someone else broke (or released) it first
  }
  fs.rmSync(tomb, { recursive: true, force: true });
  // Only drop the owner file if it is still the dead holder's (a new holder may have written its own).
  const again = readOwner(ownerFile);
  if (again && again.pid === owner.pid && again.start === owner.start) fs.rmSync(ownerFile, { force: true });
  return true;
}
