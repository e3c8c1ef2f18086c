// Who holds a lock, and is that process still alive? Locks are taken by processes of this machine, so a holder
// that died (SIGKILL, crash) can be recognised at once from its pid and start time; the start time guards against
// pid reuse. A holder seen from another host or pid namespace cannot be judged: it is never declared dead.

import fs from 'node:fs';
import os from 'node:os';
import { bootIdText } from './boot-id.js';

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
  /** Kernel thread id and start time of the JS thread (a worker thread that ended left its locks behind). */
  thread?: number | null;
  threadStart?: string | null;
}

/**
 * State letter and start time of a process or thread (`/proc/<pid>/stat` or `/proc/<pid>/task/<tid>/stat`,
 * fields 3 and 22); 'gone' if it does not exist, null if it cannot be read.
 */
function procStat(proc: string): { state: string; start: string | null } | 'gone' | null {
  try {
    const stat = fs.readFileSync(`/proc/${proc}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: fields after the last ')' are fixed.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0] ?? '', start: rest[19] ?? null };
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'gone' : null;
  }
}

function isGone(s: ReturnType<typeof procStat>, start: string | null | undefined): boolean {
  if (s === 'gone') return true;
  if (s === null) return false; // cannot be read: all we know is that it may exist
  // A zombie (killed, not yet reaped by its parent) will never run again: a parent that waits synchronously for
  // the lock would otherwise never reap it.
  if (s.state === 'Z' || s.state === 'X') return true;
  return start != null && s.start !== null && s.start !== start;
}

function startTimeOf(proc: string): string | null {
  const s = procStat(proc);
  return s === null || s === 'gone' ? null : s.start;
}

/** This thread's kernel id (`/proc/thread-self` -> "<pid>/task/<tid>"), or null off Linux. */
function currentThread(): number | null {
  const link = readOrNull(() => fs.readlinkSync('/proc/thread-self'));
  const tid = link === null ? NaN : Number(link.split('/').pop());
  return Number.isInteger(tid) && tid > 0 ? tid : null;
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
  if (self === null) {
    const thread = currentThread();
    self = {
      pid: process.pid,
      start: startTimeOf(String(process.pid)),
      host: os.hostname(),
      boot: bootIdText(),
      pidns: readOrNull(() => fs.readlinkSync('/proc/self/ns/pid')),
      thread,
      threadStart: thread === null ? null : startTimeOf(`${process.pid}/task/${thread}`),
    };
  }
  return { ...self };
}

/** True when the holder's liveness can be checked from here (same host and pid namespace, or an older record). */
export function isJudgeable(id: ProcessIdentity): boolean {
  const me = currentProcessIdentity();
  if (id.host !== undefined && id.host !== me.host) return false;
  if (id.boot != null && me.boot != null && id.boot !== me.boot) return true; // rebooted since: judgeable (dead)
  return !(id.pidns != null && me.pidns != null && id.pidns !== me.pidns);
}

/**
 * True when the holder is certainly gone: no such pid, a zombie, the pid now a newer process's, its boot ended, or
 * (for a record naming a thread) that thread ended.
 */
export function isProcessDead(id: ProcessIdentity): boolean {
  if (!isJudgeable(id)) return false;
  const me = currentProcessIdentity();
  if (id.boot != null && me.boot != null && id.boot !== me.boot) return true;
  try {
    process.kill(id.pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
  const proc = procStat(String(id.pid));
  // Gone since kill() said it exists: the next look will get ESRCH. Unreadable (no /proc): the pid exists, that is all.
  if (proc === 'gone' || proc === null) return false;
  if (isGone(proc, id.start)) return true;
  // The process lives (and /proc shows it as recorded); the thread that held the lock may not: a worker thread that
  // ended or crashed.
  if (id.thread == null || id.thread === id.pid) return false;
  return isGone(procStat(`${id.pid}/task/${id.thread}`), id.threadStart);
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
