// Which folder a partition handle was opened on. A topic deleted and created again under the same name has new
// folders at the same paths; a handle of the old topic must not take them for its own (it would append to the new
// topic with its stale end and segments: duplicate ids, overwritten events). Paths cannot tell the two apart, and
// inode numbers neither (ext4 hands a freed inode to the next folder at once): the birth time does.
import fs from 'node:fs';
import { StorageError } from './types.js';

/** dev, inode and birth time of `dir`; null when it does not exist. */
function identityOf(dir: string): string | null {
  try {
    const s = fs.statSync(dir, { bigint: true });
    return `${s.dev}:${s.ino}:${s.birthtimeNs}`;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw err;
  }
}

/** Topic folders this process removed so far: a handle of this process notices a deletion at its next append. */
let removals = 0;

/** Called after this process removed (renamed away) a topic folder. */
export function noteFolderRemoved(): void {
  removals++;
}

export class FolderIdentity {
  /** The folder's identity when the handle opened it (null: it did not exist yet; the first writer creates it). */
  private identity: string | null;
  /** `removals` when the folder was last found unchanged. */
  private checkedAtRemoval = removals;

  /** `measuredAt`: where to measure the identity now, when not at `dir` (a folder about to be renamed to `dir`). */
  constructor(readonly dir: string, measuredAt = dir) {
    this.identity = identityOf(measuredAt);
  }

  /** Whether the folder existed when the handle opened it (or was created by prepareForWriting since). */
  get existed(): boolean {
    return this.identity !== null;
  }

  /** assertUnchanged(), but only if this process removed a topic folder since the last look (no cost otherwise). */
  assertUnchangedByThisProcess(): void {
    if (this.checkedAtRemoval === removals) return;
    this.assertUnchanged();
  }

  /**
   * Before a writer takes the lock that lives in the folder: creates the folder if it did not exist when the handle
   * opened it; TOPIC_NOT_FOUND if it existed and is gone or replaced (a folder that was deleted is not recreated).
   */
  prepareForWriting(): void {
    if (this.identity === null) {
      fs.mkdirSync(this.dir, { recursive: true });
      this.identity = identityOf(this.dir);
      return;
    }
    this.assertUnchanged();
  }

  /** TOPIC_NOT_FOUND unless the folder at the path is still the one the handle opened. */
  assertUnchanged(): void {
    const now = removals;
    if (this.replaced()) throw this.goneError();
    this.checkedAtRemoval = now;
  }

  /** The TOPIC_NOT_FOUND error of an operation on a folder that was deleted or replaced (`cause`: what failed). */
  goneError(cause?: unknown): StorageError {
    const again = identityOf(this.dir) === null ? '' : ' and created again';
    return new StorageError('TOPIC_NOT_FOUND', `${this.dir} was deleted${again} since this handle opened it (topic deleted?): open the topic again`, {
      file: this.dir,
      ...(cause !== undefined ? { cause } : {}),
    });
  }

  /**
   * What made an operation by path in the folder fail: `err`, or TOPIC_NOT_FOUND (caused by `err`) when the folder was
   * deleted or replaced meanwhile (ENOENT, a missing file, a lock that cannot be taken are then no fault of their own).
   */
  explain(err: unknown): unknown {
    if (err instanceof StorageError && err.code === 'TOPIC_NOT_FOUND') return err;
    return this.replaced() ? this.goneError(err) : err;
  }

  /** True when the folder is gone or another folder stands at its path (false if it never existed). */
  replaced(): boolean {
    return this.identity !== null && identityOf(this.dir) !== this.identity;
  }
}
