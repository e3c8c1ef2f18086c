// The per-partition writer lock, held as a lease: a writer keeps the lock while appends keep coming and gives it
// up when idle (timer) or after holding it for MAX_HOLD_MS while another writer waits (so writers in other
// processes get a turn; a waiter announces itself with a marker file, see othersWaiting()). The lock is
// a GenerationLock in the folder `writer.lock.d` of the partition: a dead writer's lock is taken over at once by
// exactly one contender, a live writer's lock never (see generation-lock.ts, docs/locks.md). Everything here is
// synchronous: appends must work even when the event loop never turns, so waiting is a sleep loop (Atomics.wait).
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { isIoErrno } from './fs-helpers.js';
import { StorageError } from './types.js';
import { WRITER_LOCK_NAME } from './segment-files.js';
import { GenerationLock, isAbandoned, isFromThisInstance, type Lease, type LockRecord } from './generation-lock.js';
import { legacyHolder, type LegacyHolder } from './legacy-lock.js';
import { releaseLater, releasePending, retryReleases } from './lock-release-retry.js';
import { currentProcessIdentity, describeProcess, isProcessDead, type ProcessIdentity } from './process-liveness.js';

/** The lock folder's name in the partition folder. */
export const WRITER_LOCK_FOLDER = `${WRITER_LOCK_NAME}.d`;
/**
 * Default of the `lockStaleMs` partition option. The lock itself never goes stale (a dead holder is recognised at
 * once, a live one is never overruled); the reference format uses the value as the quiet time after which a torn
 * tail is considered abandoned.
 */
export const DEFAULT_LOCK_STALE_MS = 5000;
/** Lower bound applied to `lockStaleMs` where it is used (the old lock format's minimum, kept for old settings). */
export const MIN_LOCK_STALE_MS = 2000;
export const MAX_HOLD_MS = 50;
/**
 * Longest a lease is extended without a turn when no waiter is seen: bounds how long a waiter whose marker could
 * not be written (full disk) waits behind a writer that never goes idle.
 */
export const MAX_EXTENDED_HOLD_MS = 1000;
export const IDLE_RELEASE_MS = 2;
export const ACQUIRE_TIMEOUT_MS = 30_000;
/**
 * How long a held lease is trusted before stillOurs() looks at the folder again. Nothing can take a live holder's
 * lock; this only bounds how late outside interference (the folder deleted by hand) is noticed.
 */
export const VERIFY_EVERY_MS = 1000;

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
/** Blocks the thread for `ms` (fractions allowed) without spinning. */
export function sleepSync(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

/**
 * Leases held in this process, by lock path. Appends are synchronous, so a lease held by another object of
 * this process is idle whenever we run: it is handed over at once instead of waiting for its idle timer
 * (which could not fire while we sleep-wait on the same thread).
 */
const heldInProcess = new Map<string, WriterLock>();

/**
 * A writer waiting for the lock keeps an empty file `.waiter-<pid>-<start>-<instance>-<n>` in the lock folder (the
 * generation lock ignores other names), so that a holder hands the lease over at MAX_HOLD_MS only when somebody
 * actually waits. Markers of dead processes are removed by the holder that finds them; the process start time
 * (process-liveness.ts; `x` when unknown) tells a marker of an earlier process whose pid was reused from a live
 * waiter's. Older markers have no start field (`.waiter-<pid>-<instance>-<n>`).
 */
const WAITER_PREFIX = '.waiter-';
const WAITER_INSTANCE = randomBytes(4).toString('hex');
let waiterSerial = 0;
/** Markers of this thread whose removal failed: retried at each look, never counted as waiting. */
const unremovedMarkers = new Set<string>();

function waiterMarkerIdentity(name: string): ProcessIdentity | null {
  const fields = name.slice(WAITER_PREFIX.length).split('-');
  const pid = Number(fields[0]);
  if (!Number.isInteger(pid) || pid <= 0) return null;
  const start = fields.length >= 4 && fields[1] !== 'x' ? fields[1]! : null;
  return { pid, start };
}

/** True when the marker was left by a process that is gone (or by an earlier process with our pid). */
function waiterIsGone(id: ProcessIdentity): boolean {
  if (id.pid !== process.pid) return isProcessDead(id);
  const me = currentProcessIdentity().start;
  return id.start !== null && me !== null && id.start !== me;
}

function tryRemove(file: string): boolean {
  try {
    fs.rmSync(file, { force: true });
    return true;
  } catch {
    return false; // a read-only folder: retried later
  }
}

export class WriterLock {
  /** The lock folder. */
  readonly lockPath: string;
  private readonly legacyPath: string;
  private readonly gens: GenerationLock;
  private lease: Lease | null = null;
  private lost = false;
  /** When the current turn began: the lease was taken or, with nobody waiting, extended. */
  private heldSince = 0;
  /** When the lease was taken (extensions do not move it). */
  private acquiredAt = 0;
  /** Our waiter marker while acquire() waits. */
  private waiterFile: string | null = null;
  private verifiedAt = 0;
  private idleTimer: NodeJS.Timeout | null = null;
  /** Who held the lock at the last failed attempt (for the timeout message). */
  private lastHolder: LockRecord | LegacyHolder | null = null;
  /** Called (synchronously) when the lease is given up by the idle timer. */
  onIdleRelease: (() => void) | null = null;

  constructor(partitionDir: string) {
    this.lockPath = path.join(partitionDir, WRITER_LOCK_FOLDER);
    this.legacyPath = path.join(partitionDir, WRITER_LOCK_NAME);
    this.gens = new GenerationLock(this.lockPath);
  }

  get isHeld(): boolean {
    return this.lease !== null && !this.lost;
  }

  /**
   * The lock's generation when no live process holds it (never used: 0; free, or its holder died), else null: a
   * read-only look, taking and changing nothing. The same generation seen twice means no writer ran in between.
   * A record this version cannot read counts as held; so does an old-version lock directory.
   */
  idleGeneration(): number | null {
    if (this.isHeld) return null;
    if (fs.existsSync(this.legacyPath)) return null;
    let cur: { gen: number; record: LockRecord | null } | null;
    try {
      cur = this.gens.current();
    } catch {
      return null;
    }
    if (cur === null) return 0;
    const r = cur.record;
    return r === null || r.state === 'free' || isAbandoned(r) ? cur.gen : null;
  }

  /**
   * Milliseconds into the current turn. A writer hands the lease over once this reaches MAX_HOLD_MS; so that an
   * uncontended writer never pauses for that, a turn that has run its time while no other writer waits is
   * extended instead (the result is 0 then), up to MAX_EXTENDED_HOLD_MS since the lease was taken.
   */
  heldFor(now = Date.now()): number {
    const turn = now - this.heldSince;
    if (turn < MAX_HOLD_MS || !this.isHeld || now - this.acquiredAt >= MAX_EXTENDED_HOLD_MS) return turn;
    if (this.othersWaiting()) return turn;
    this.heldSince = now;
    return 0;
  }

  /**
   * True when another writer (another process, or another thread of this one) announced that it waits for this
   * lock. One directory listing; a marker left by a dead process is removed on the way. A folder we cannot list
   * counts as waited for (the lease then turns as if contended, the safe side).
   */
  othersWaiting(): boolean {
    let names: string[];
    try {
      names = fs.readdirSync(this.lockPath);
    } catch {
      return true;
    }
    let waiting = false;
    for (const n of names) {
      if (!n.startsWith(WAITER_PREFIX)) continue;
      const file = path.join(this.lockPath, n);
      if (file === this.waiterFile) continue;
      if (unremovedMarkers.has(file)) {
        // Ours, no longer waiting: removal failed before, tried again.
        if (tryRemove(file)) unremovedMarkers.delete(file);
        continue;
      }
      const id = waiterMarkerIdentity(n);
      if (id !== null && waiterIsGone(id)) {
        tryRemove(file); // left behind in a read-only folder: ignored all the same
        continue;
      }
      waiting = true;
    }
    return waiting;
  }

  /** Leaves our marker in the lock folder (once per wait). Without it (disk full) holders turn on MAX_EXTENDED_HOLD_MS. */
  private announceWaiting(): void {
    if (this.waiterFile !== null) return;
    const start = currentProcessIdentity().start ?? 'x';
    const file = path.join(this.lockPath, `${WAITER_PREFIX}${process.pid}-${start}-${WAITER_INSTANCE}-${++waiterSerial}`);
    try {
      fs.writeFileSync(file, '', { flag: 'wx' });
      this.waiterFile = file;
    } catch {
      // Not announced: the holder still hands over at MAX_EXTENDED_HOLD_MS.
    }
  }

  private withdrawWaiting(): void {
    if (this.waiterFile === null) return;
    // Left behind: other processes' holders turn the lease as if we waited until a later look removes it.
    if (!tryRemove(this.waiterFile)) unremovedMarkers.add(this.waiterFile);
    this.waiterFile = null;
    for (const file of unremovedMarkers) if (tryRemove(file)) unremovedMarkers.delete(file);
  }

  /** One attempt; true when we now hold the lock. A lock whose holder died is taken over at once. */
  tryAcquire(): boolean {
    if (this.isHeld) return true;
    if (this.lease !== null) this.release(); // lost: forget it first
    const other = heldInProcess.get(this.lockPath);
    if (other !== undefined && other !== this) other.release();
    // A release of this lock that failed earlier goes first (its prepared record is removed either way).
    if (releasePending(this.lockPath)) retryReleases(this.lockPath);
    let lease: Lease;
    try {
      const legacy = legacyHolder(this.legacyPath);
      if (legacy !== null) {
        this.lastHolder = legacy;
        return false;
      }
      // A record of this very thread that no object holds (its release failed) is an orphan: ours to take.
      const r = this.gens.tryTake((rec) => isFromThisInstance(rec) && !heldInProcess.has(this.lockPath));
      if (!r.taken) {
        this.lastHolder = r.holder;
        return false;
      }
      lease = r.lease;
    } catch (err) {
      // A full or failing disk, or no descriptor left, is what the user must hear about (IO), not a lock problem.
      const code = isIoErrno(err) ? 'IO' : 'LOCK_FAILED';
      throw new StorageError(code, `cannot take writer lock ${this.lockPath}: ${(err as Error).message}`, {
        file: this.lockPath, cause: err,
      });
    }
    this.lease = lease;
    this.lost = false;
    heldInProcess.set(this.lockPath, this);
    this.heldSince = this.acquiredAt = this.verifiedAt = Date.now();
    return true;
  }

  /** Takes the lock, sleeping between attempts with a growing backoff; LOCK_FAILED after `timeoutMs`. */
  acquire(timeoutMs = ACQUIRE_TIMEOUT_MS): void {
    if (this.tryAcquire()) return;
    // About to wait: give back every other lease this thread holds. They are idle (writes are synchronous, so none
    // is being written while we wait here), and keeping them would deadlock with a writer elsewhere that holds
    // this lock and waits for one of them (two producers touching two partitions in opposite orders).
    for (const other of [...heldInProcess.values()]) if (other !== this) other.release();
    const deadline = Date.now() + timeoutMs;
    let backoffMs = 0.05;
    try {
      do {
        if (Date.now() >= deadline) {
          throw new StorageError('LOCK_FAILED', `timed out after ${timeoutMs} ms waiting for writer lock ${this.lockPath}${this.holderText()}`, {
            file: this.lockPath,
          });
        }
        this.announceWaiting();
        sleepSync(backoffMs);
        backoffMs = Math.min(backoffMs * 2, 0.5);
      } while (!this.tryAcquire());
    } finally {
      this.withdrawWaiting();
    }
  }

  private holderText(): string {
    const h = this.lastHolder;
    if (h === null) return '';
    if ('lockDir' in h) {
      const who = h.owner === null ? 'a process' : describeProcess(h.owner);
      return ` (held by ${who} of an older diaspora-stream version through ${h.lockDir}: stop it first)`;
    }
    if (h.state === 'unknown') return ' (held according to a record this version does not understand)';
    return h.state === 'held' ? ` (held by ${describeProcess(h)}, which is alive; a stopped holder is never overruled)` : '';
  }

  /**
   * True when the lock is still certainly ours. Nothing can take a live holder's lock, so this looks at the folder
   * only every VERIFY_EVERY_MS (to notice outside interference); in between it costs nothing.
   */
  stillOurs(now = Date.now()): boolean {
    if (!this.isHeld) return false;
    if (now - this.verifiedAt < VERIFY_EVERY_MS) return true;
    let ours = false;
    try {
      ours = this.gens.holds(this.lease!);
    } catch {
      ours = false;
    }
    if (ours) this.verifiedAt = now;
    else this.lost = true;
    return ours;
  }

  /** During a long synchronous batch: LOCK_FAILED if the lock is no longer ours (checked every VERIFY_EVERY_MS). */
  assertStillOurs(): void {
    if (this.lease !== null && !this.stillOurs()) {
      throw new StorageError('LOCK_FAILED', `writer lock ${this.lockPath} is no longer ours (removed or taken over)`, { file: this.lockPath });
    }
  }

  /** Re-arms the idle timer: the lease ends IDLE_RELEASE_MS after the last use. */
  touchLease(): void {
    if (this.idleTimer === null) {
      this.idleTimer = setTimeout(() => {
        this.idleTimer = null;
        this.release();
        this.onIdleRelease?.();
      }, IDLE_RELEASE_MS);
      this.idleTimer.unref();
    } else {
      this.idleTimer.refresh();
    }
  }

  release(): void {
    if (this.idleTimer !== null) {
      clearTimeout(this.idleTimer);
      this.idleTimer = null;
    }
    const lease = this.lease;
    if (lease === null) return;
    this.lease = null;
    if (heldInProcess.get(this.lockPath) === this) heldInProcess.delete(this.lockPath);
    if (this.lost) {
      this.lost = false;
      this.gens.abandon(lease); // someone else's now: touching it would break their exclusion
      return;
    }
    try {
      this.gens.release(lease);
    } catch {
      // Nothing was published: the record still says "held by this thread" (writers elsewhere wait) and the
      // prepared "free" record (a `.tmp-` file) is still in the lock folder. Neither may stay until the process
      // exits: the release is tried again in the background, and by this thread's next tryAcquire.
      releaseLater(this.gens, lease);
    }
  }
}
