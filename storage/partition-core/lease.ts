// The writer's lease on a partition, shared by every format: the writer lock (writer-lock.ts) is kept across
// back-to-back appends and handed over after MAX_HOLD_MS so that writers in other processes take turns. Every
// (re)acquisition re-reads the partition's state under the lock: while the lease was held continuously nobody
// else appended, so the cached end is exact.
import fs from 'node:fs';
import { WriterLock, MAX_HOLD_MS, sleepSync } from '../writer-lock.js';

/** Pause after a forced lease rotation so that a writer waiting in another process can take the lock. */
const ROTATION_GAP_MS = 1;

export class Lease {
  readonly lock: WriterLock;

  constructor(private readonly dir: string) {
    this.lock = new WriterLock(dir);
  }

  /**
   * Makes sure this process holds a fresh lease; when it had to take the lock, runs `syncUnderLock` (catch up
   * with other writers, repair a torn tail). The lock is given back if that fails.
   */
  ensure(syncUnderLock: () => void): void {
    const lock = this.lock;
    if (lock.isHeld) {
      const now = Date.now();
      if (lock.heldFor(now) < MAX_HOLD_MS && lock.stillOurs(now)) return;
      // Held long enough (or lost): hand it over (other processes may be waiting), then queue again.
      const ours = lock.stillOurs(now);
      lock.release();
      if (ours) sleepSync(ROTATION_GAP_MS);
    }
    // The lock lives in the partition folder, which only a writer creates (read-only opens create nothing).
    fs.mkdirSync(this.dir, { recursive: true });
    lock.acquire();
    try {
      syncUnderLock();
    } catch (err) {
      lock.release();
      throw err;
    }
  }
}
