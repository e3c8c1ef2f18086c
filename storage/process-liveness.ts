// Who holds a lock, and is that process still alive? Locks are taken by processes of this machine, so a holder
// that died (SIGKILL, crash) can be recognised at once from its pid and start time; the start time guards against
// pid reuse. A holder seen from another host or pid namespace cannot be judged: it is never declared dead.

import fs from 'node:fs';
import os from 'node:os';

export interface ProcessIdentity {
  pid: number;
  /** Start time of the process in clock ticks since boot (Linux /proc/<pid>/stat field 22), or null elsewhere. */
  start: string | null;
  /** Host name (absent in identities written by older versions, which are judged as local). */
  host?: string;
  /** Linux boot id: a holder recorded under another boot of this host died with that boot. */
  boot?: string | null;
  /** Pid namespace (`/proc/self/ns/pid` link text): pids of another namespace mean nothing here. */
  pidns?: string | null;
}

/** State letter and start time of a process (Linux /proc/<pid>/stat fields 3 and 22), or null if unreadable. */
function procStat(pid: number): { state: string; start: string | null } | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: fields after the last ')' are fixed.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0] ?? '', start: rest[19] ?? null };
  } catch {
    return null;
  }
}

function startTimeOf(pid: number): string | null {
  return procStat(pid)?.start ?? null;
}

function readOrNull(read: () => string): string | null {
  try {
    return read().trim() || null;
  } catch {
    return null;
  }
}

let self: Required<ProcessIdentity> | null = null;

/** This process (computed once: none of it changes while the process lives). */
export function currentProcessIdentity(): ProcessIdentity {
  self ??= {
    pid: process.pid,
    start: startTimeOf(process.pid),
    host: os.hostname(),
    boot: readOrNull(() => fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8')),
    pidns: readOrNull(() => fs.readlinkSync('/proc/self/ns/pid')),
  };
  return { ...self };
}

/** True when the holder's liveness can be checked from here (same host and pid namespace, or an older record). */
export function isJudgeable(id: ProcessIdentity): boolean {
  const me = currentProcessIdentity();
  if (id.host !== undefined && id.host !== me.host) return false;
  if (id.boot != null && me.boot != null && id.boot !== me.boot) return true; // rebooted since: judgeable (dead)
  return !(id.pidns != null && me.pidns != null && id.pidns !== me.pidns);
}

/** True when the process is certainly gone (no such pid, a zombie, the pid now a newer process's, or its boot ended). */
export function isProcessDead(id: ProcessIdentity): boolean {
  if (!isJudgeable(id)) return false;
  const me = currentProcessIdentity();
  if (id.boot != null && me.boot != null && id.boot !== me.boot) return true;
  try {
    process.kill(id.pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
  const now = procStat(id.pid);
  if (now === null) return false; // no /proc (not Linux): the pid exists, that is all we know
  // A zombie (killed, not yet reaped by its parent) will never run again: a parent that waits synchronously for
  // the lock would otherwise never reap it.
  if (now.state === 'Z' || now.state === 'X') return true;
  return id.start !== null && now.start !== null && now.start !== id.start;
}

/** "pid 123" or "pid 123 on host h" / "... in another pid namespace": for error messages. */
export function describeProcess(id: ProcessIdentity): string {
  const me = currentProcessIdentity();
  if (id.host !== undefined && id.host !== me.host) return `pid ${id.pid} on host ${id.host} (its liveness cannot be checked from here)`;
  if (!isJudgeable(id)) return `pid ${id.pid} of another pid namespace (its liveness cannot be checked from here)`;
  return `pid ${id.pid}`;
}

/** Reads a JSON identity file (the owner file older versions wrote beside their lock directories); null if unusable. */
export function readOwner(ownerFile: string): ProcessIdentity | null {
  try {
    const v = JSON.parse(fs.readFileSync(ownerFile, 'utf8')) as ProcessIdentity;
    return Number.isInteger(v.pid) && v.pid > 0 ? v : null;
  } catch {
    return null;
  }
}
