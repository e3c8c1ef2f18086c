// Wakes readers when a partition gets new commits. Appends in this process signal directly; commits by other
// processes are seen through fs.watch on the partition folder (inotify: about a millisecond), with a slow poll
// as a safety net (and as the only mechanism where watching is unavailable). Nothing here keeps the process alive.
import fs from 'node:fs';
import path from 'node:path';
import { EventEmitter } from 'node:events';

/** The safety poll while the folder is not watched (fs.watch failed): the only way commits of other processes are seen. */
export const POLL_INTERVAL_MS = 250;
/**
 * The safety poll while the folder is watched: it only catches a change the watch missed (inotify misses nothing on a
 * local filesystem), and a consumer of many idle partitions polls each of them (64 partitions at 250 ms: ~3 % of a core).
 */
export const WATCHED_POLL_INTERVAL_MS = 1000;

const localCommits = new EventEmitter();
localCommits.setMaxListeners(0);

/** The name under which commits to `dir` are signalled in this process (the absolute path: resolved once per writer). */
export function commitSignalKey(dir: string): string {
  return path.resolve(dir);
}

/** Tells every watcher in this process of the folder whose commitSignalKey() is `key` that a commit happened. */
export function signalLocalCommit(key: string): void {
  localCommits.emit(key);
}

interface Waiter {
  check: () => boolean;
}

export class CommitWatcher {
  readonly dir: string;
  private readonly waiters = new Set<Waiter>();
  private watcher: fs.FSWatcher | null = null;
  private watchFailed = false;
  private pollTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly onSignal = (): void => this.wake();
  /** A change of a file that cannot make a commit visible (bytes written before their commit record) wakes nobody. */
  private readonly onChange = (_event: string, file: string | Buffer | null): void => {
    if (file !== null && this.isCommitFile !== undefined && !this.isCommitFile(String(file))) return;
    this.wake();
  };

  /**
   * `isCommitFile`: which file names of the folder a commit changes last (the format's commit record); changes of
   * other files do not wake waiters, each of which would otherwise re-read the committed end for nothing. Omitted:
   * every change wakes them.
   */
  constructor(dir: string, private readonly isCommitFile?: (name: string) => boolean) {
    this.dir = commitSignalKey(dir);
  }

  /**
   * Resolves true as soon as `ready()` holds (checked now, then on every signal), false on timeout or abort.
   * `ready` must be cheap: it runs on every change notification.
   */
  wait(ready: () => boolean, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (ready()) return Promise.resolve(true);
    if (this.closed || signal?.aborted || timeoutMs <= 0) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      let timer: NodeJS.Timeout | null = null;
      const finish = (result: boolean): void => {
        this.waiters.delete(waiter);
        if (timer !== null) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.stopIfIdle();
        resolve(result);
      };
      const waiter: Waiter = {
        check: () => {
          if (this.closed) {
            finish(false);
            return true;
          }
          if (!ready()) return false;
          finish(true);
          return true;
        },
      };
      const onAbort = (): void => finish(false);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (Number.isFinite(timeoutMs)) timer = setTimeout(() => finish(false), timeoutMs);
      this.waiters.add(waiter);
      this.start();
      // A commit may have landed between the first check and the watch being set up.
      waiter.check();
    });
  }

  private start(): void {
    if (this.watcher === null && !this.watchFailed) {
      try {
        this.watcher = fs.watch(this.dir, { persistent: false }, this.onChange);
        this.watcher.on('error', () => {
          this.watcher?.close();
          this.watcher = null;
          this.watchFailed = true;
          // The poll is all that is left: at its fast interval from now on.
          if (this.pollTimer !== null) {
            clearInterval(this.pollTimer);
            this.pollTimer = null;
            this.startPoll();
          }
        });
        localCommits.on(this.dir, this.onSignal);
      } catch {
        this.watchFailed = true;
        localCommits.on(this.dir, this.onSignal);
      }
    }
    if (this.pollTimer === null) this.startPoll();
  }

  /** Starts the safety poll, slow while the folder is watched, fast once it is not. */
  private startPoll(): void {
    this.pollTimer = setInterval(this.onSignal, this.pollEvery());
    this.pollTimer.unref();
  }

  private pollEvery(): number {
    return this.watcher === null ? POLL_INTERVAL_MS : WATCHED_POLL_INTERVAL_MS;
  }

  /** The safety poll's interval while someone waits (null: no wait, no poll). */
  get pollIntervalMs(): number | null {
    return this.pollTimer === null ? null : this.pollEvery();
  }

  private stopIfIdle(): void {
    if (this.waiters.size > 0) return;
    // The watch itself stays (re-creating an inotify watch per wait is costly); only the poll stops.
    if (this.pollTimer !== null) {
      clearInterval(this.pollTimer);
      this.pollTimer = null;
    }
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter.check();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.wake();
    this.waiters.clear();
    if (this.pollTimer !== null) clearInterval(this.pollTimer);
    this.pollTimer = null;
    this.watcher?.close();
    this.watcher = null;
    localCommits.off(this.dir, this.onSignal);
  }
}
