// The per-partition writer lock, held as a lease. proper-lockfile costs ~0.1 ms per lock+unlock, far too much
// per batch, so a writer keeps the lock while appends keep coming and gives it up when idle (timer) or after
// holding it for MAX_HOLD_MS (so writers in other processes get a turn). Everything here is synchronous:
// appends must work even when the event loop never turns, so waiting is a sleep loop (Atomics.wait).
import fs from 'node:fs';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { StorageError } from './types.js';
import { WRITER_LOCK_NAME } from './segment-files.js';
import { breakLockOfDeadHolder, removeOwnIdentity, writeOwner } from './process-liveness.js';

export const DEFAULT_LOCK_STALE_MS = 5000;
/** proper-lockfile never treats a lock younger than this as stale, whatever is asked. */
export const MIN_LOCK_STALE_MS = 2000;
export const MAX_HOLD_MS = 50;
export const IDLE_RELEASE_MS = 2;
export const ACQUIRE_TIMEOUT_MS = 30_000;

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

export class WriterLock {
  readonly lockPath: string;
  private readonly target: string;
  private readonly staleMs: number;
  private get ownerFile(): string {
    return `${this.lockPath}.owner`;
  }
  private heldSince = 0;
  private lastTouch = 0;
  private ourMtimeMs = 0;
  private held = false;
  private compromised = false;
  private idleTimer: NodeJS.Timeout | null = null;
  /** Set when touchIfOld() changed the lock's mtime behind proper-lockfile's back: release before it notices. */
  touchedManually = false;
  /** Called (synchronously) when the lease is given up by the idle timer. */
  onIdleRelease: (() => void) | null = null;

  constructor(partitionDir: string, staleMs = DEFAULT_LOCK_STALE_MS) {
    this.target = path.join(partitionDir, WRITER_LOCK_NAME);
    this.lockPath = this.target;
    this.staleMs = Math.max(staleMs, MIN_LOCK_STALE_MS);
  }

  get isHeld(): boolean {
    return this.held && !this.compromised;
  }

  /** Milliseconds since the lock was (re)acquired. */
  heldFor(now = Date.now()): number {
    return now - this.heldSince;
  }

  /** One attempt; true when we now hold the lock. A lock left by a dead process is reclaimed once stale. */
  tryAcquire(): boolean {
    if (this.isHeld) return true;
    const other = heldInProcess.get(this.lockPath);
    if (other !== undefined && other !== this) other.release();
    const take = (): void => {
      lockfile.lockSync(this.target, {
        stale: this.staleMs,
        realpath: false,
        lockfilePath: this.lockPath,
        onCompromised: () => {
          this.compromised = true;
        },
      });
    };
    try {
      try {
        take();
      } catch (err) {
        // A holder that died on this machine (pid + start time in the owner file) is recognised at once.
        if ((err as NodeJS.ErrnoException).code !== 'ELOCKED' || !breakLockOfDeadHolder(this.lockPath, this.ownerFile)) throw err;
        take();
      }
      writeOwner(this.ownerFile);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ELOCKED') return false;
      throw new StorageError('LOCK_FAILED', `cannot take writer lock ${this.lockPath}: ${(err as Error).message}`, {
        file: this.lockPath, cause: err,
      });
    }
    this.held = true;
    heldInProcess.set(this.lockPath, this);
    this.compromised = false;
    this.heldSince = this.lastTouch = Date.now();
    this.ourMtimeMs = this.lockMtimeMs();
    return true;
  }

  /** Takes the lock, sleeping between attempts with a growing backoff; LOCK_FAILED after `timeoutMs`. */
  acquire(timeoutMs = ACQUIRE_TIMEOUT_MS): void {
    const deadline = Date.now() + timeoutMs;
    let backoffMs = 0.05;
    while (!this.tryAcquire()) {
      if (Date.now() >= deadline) {
        throw new StorageError('LOCK_FAILED', `timed out after ${timeoutMs} ms waiting for writer lock ${this.lockPath}`, {
          file: this.lockPath,
        });
      }
      sleepSync(backoffMs);
      backoffMs = Math.min(backoffMs * 2, 0.5);
    }
  }

  /**
   * True when the lock is still certainly ours. A lease held for a long time without the event loop turning
   * (so without proper-lockfile refreshing it) may have been judged stale and taken over by another process.
   */
  stillOurs(now = Date.now()): boolean {
    if (!this.isHeld) return false;
    if (now - this.lastTouch < this.staleMs / 2) return true;
    return this.lockMtimeMs() === this.ourMtimeMs;
  }

  /** Refreshes the lock's mtime during a long synchronous batch, so that it never looks stale. */
  touchIfOld(): void {
    const now = Date.now();
    if (!this.isHeld || now - this.lastTouch < this.staleMs / 4) return;
    if (!this.stillOurs(now)) {
      throw new StorageError('LOCK_FAILED', `writer lock ${this.lockPath} was taken over`, { file: this.lockPath });
    }
    const t = new Date(now);
    fs.utimesSync(this.lockPath, t, t);
    this.ourMtimeMs = this.lockMtimeMs();
    this.lastTouch = now;
    this.touchedManually = true;
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
    if (!this.held) return;
    this.held = false;
    if (heldInProcess.get(this.lockPath) === this) heldInProcess.delete(this.lockPath);
    this.touchedManually = false;
    // A compromised or taken-over lock is someone else's now: removing it would break their exclusion.
    const ours = !this.compromised && this.stillOursUnchecked();
    this.compromised = false;
    try {
      if (ours) {
        removeOwnIdentity(this.ownerFile);
        lockfile.unlockSync(this.target, { realpath: false, lockfilePath: this.lockPath });
      }
    } catch {
      // Already released or removed: nothing of ours is left to clean up.
    }
  }

  private stillOursUnchecked(): boolean {
    if (Date.now() - this.lastTouch < this.staleMs / 2) return true;
    return this.lockMtimeMs() === this.ourMtimeMs;
  }

  private lockMtimeMs(): number {
    try {
      return fs.statSync(this.lockPath).mtimeMs;
    } catch {
      return -1;
    }
  }
}
