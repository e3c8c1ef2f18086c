// The writer's lease on a partition, shared by every format: the writer lock (writer-lock.ts) is kept across
// back-to-back appends and handed over after MAX_HOLD_MS so that writers in other processes take turns. Every
// (re)acquisition re-reads the partition's state under the lock: while the lease was held continuously nobody
// else appended, so the cached end is exact.
import { FolderIdentity } from '../folder-identity.js';
import { StorageError } from '../types.js';
import { WriterLock, MAX_HOLD_MS, sleepSync } from '../writer-lock.js';

/** Pause after a forced lease rotation so that a writer waiting in another process can take the lock. */
const ROTATION_GAP_MS = 1;

export class Lease {
  readonly lock: WriterLock;
  /** The partition folder this handle opened: a lease is never taken in a folder that replaced it. */
  readonly folder: FolderIdentity;

  constructor(dir: string) {
    this.lock = new WriterLock(dir);
    this.folder = new FolderIdentity(dir);
  }

  /**
   * Makes sure this process holds a fresh lease; when it had to take the lock, runs `syncUnderLock` (catch up
   * with other writers, repair a torn tail). The lock is given back if that fails. TOPIC_NOT_FOUND when the
   * partition folder was deleted (or deleted and created again) since the handle opened it.
   */
  ensure(syncUnderLock: () => void): void {
    const lock = this.lock;
    if (lock.isHeld) {
      const now = Date.now();
      if (lock.heldFor(now) < MAX_HOLD_MS && lock.stillOurs(now)) {
        try {
          this.folder.assertUnchangedByThisProcess();
        } catch (err) {
          lock.release();
          throw err;
        }
        return;
      }
      // Held long enough (or lost): hand it over (other processes may be waiting), then queue again.
      const ours = lock.stillOurs(now);
      lock.release();
      if (ours) sleepSync(ROTATION_GAP_MS);
    }
    // The lock lives in the partition folder, which only a writer creates (read-only opens create nothing).
    this.folder.prepareForWriting();
    try {
      lock.acquire();
    } catch (err) {
      // The folder renamed away (topic deleted) right after the look above: its lock cannot be taken.
      throw this.folder.explain(err);
    }
    try {
      // Checked again under the lock: the folder may have been replaced between the look above and the lock; and
      // once more after syncUnderLock, which opens descriptors by path (they may be of a folder that replaced ours).
      this.folder.assertUnchanged();
      syncUnderLock();
      this.folder.assertUnchanged();
    } catch (err) {
      lock.release();
      // A file of the folder gone (ENOENT, CORRUPTION "missing") because the topic was deleted meanwhile: say so.
      const explained = this.folder.explain(err);
      if (explained !== err || err instanceof StorageError || err instanceof TypeError) throw explained;
      // A system error (EMFILE, ENOSPC, EIO...) while catching up under the lock is an I/O failure like any other.
      throw new StorageError('IO', `taking over ${this.folder.dir} failed: ${(err as Error).message}`, { file: this.folder.dir, cause: err });
    }
  }
}
