// What every partition format shares: the API of a partition (PartitionLogLike) with its argument checks, the
// append protocol (batch checks, lease, commit signal, failure handling), readRange semantics, waiting, stats
// and lifecycle. A format (the native segments in partition-log.ts, the C++ reference's three files in
// reference/reference-partition-log.ts) extends this class and supplies only the abstract members below: how
// entries are written and located, how the tail is caught up with and repaired under the lock, how files are laid
// out. See CONTRIBUTING.md "Partition core".
import { CommitWatcher, commitSignalKey, signalLocalCommit } from '../commit-watcher.js';
import {
  StorageError, type AppendEvent, type AppendResult, type FlushBehavior, type PartitionLogLike, type PartitionStats,
  type RecoveryReport, type StoredEvent, type StoredRun, type VerifyProblem,
} from '../types.js';
import { BatchSizes, checkBatch } from './batch-check.js';
import { checkId, checkMax } from './id-checks.js';
import { Lease } from './lease.js';

/** The per-format part of stats(): where the bytes are and the time span (null where there is none). */
export type FormatStats = Pick<PartitionStats, 'metadataBytes' | 'dataBytes' | 'segments' | 'firstTimestamp' | 'lastTimestamp'>;

/** The arguments every format's open() takes: a folder and the partition's number. */
export function checkPartitionArgs(dir: unknown, index: unknown): void {
  if (typeof dir !== 'string') throw new TypeError('partition dir must be a string');
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0) throw new TypeError('partition index must be a non-negative integer');
}

export abstract class PartitionCore implements PartitionLogLike {
  readonly dir: string;
  readonly index: number;
  /** What crash recovery found (read-only open, `truncated: false`) or cut (a writer under the lock); null if nothing. */
  recovery: RecoveryReport | null = null;
  protected readonly lease: Lease;
  protected closed = false;
  private watcher: CommitWatcher | null = null;
  /** Set once the partition folder was seen deleted or replaced: every read then fails with TOPIC_NOT_FOUND. */
  private folderGone = false;
  private readonly sizes = new BatchSizes();
  /** How this process's watchers of the folder are told of a commit (resolved once: an append does not resolve paths). */
  private readonly commitKey: string;

  protected constructor(dir: string, index: number) {
    this.dir = dir;
    this.commitKey = commitSignalKey(dir);
    this.index = index;
    this.lease = new Lease(dir);
  }

  // ---------------------------------------------------------------- what a format supplies

  /** One past the last committed id, as last read. */
  abstract get endId(): number;
  /** First id still stored. */
  abstract get startId(): number;
  /** Re-reads the committed end from the files (other processes may have appended); returns it. */
  protected abstract readEnd(): number;
  abstract findByTime(ms: number): number;
  abstract verify(): VerifyProblem[];
  protected abstract get flushBehavior(): FlushBehavior;
  /**
   * Runs with the writer lock just taken: catch up with other writers' commits, refuse (CORRUPTION) to append to
   * a partition whose committed data is damaged, cut a torn tail a dead writer left (merging what was cut into
   * `recovery` with mergeRepair).
   */
  protected abstract syncUnderLock(): void;
  /** Writes and commits events [0, n) at the end (the lock is held); `sizes` holds their checked sizes. */
  protected abstract writeBatch(events: readonly AppendEvent[], sizes: BatchSizes, n: number): void;
  /** After writeBatch failed, before the lease is given up: best effort, forget or cut what was not committed. */
  protected abstract abortWrite(): void;
  /** Committed event `id` (startId <= id < endId). */
  protected abstract eventAt(id: number): StoredEvent;
  /** Committed events [from, stop) (startId <= from < stop <= endId). */
  protected abstract eventsIn(from: number, stop: number): StoredEvent[];
  /** Events [from, stop) as a run (or fewer: a run may stop early); formats without runs answer the records. */
  protected runIn(from: number, stop: number): StoredRun | StoredEvent[] {
    return this.eventsIn(from, stop);
  }
  /** fsync what this process wrote (flushBehavior is not 'buffered'). */
  protected abstract syncToDisk(): void;
  protected abstract formatStats(): FormatStats;
  /** Closes the format's descriptors and mappings (the lease and the watcher are closed by close()). */
  protected abstract closeFiles(): void;
  /**
   * Whether a change of file `name` (in the partition folder) can make new commits visible: waitForAppend re-reads
   * the end only then (and on the slow poll). Default: any file.
   */
  protected isCommitFile(_name: string): boolean {
    return true;
  }

  // ---------------------------------------------------------------- writing

  append(events: readonly AppendEvent[]): AppendResult {
    this.assertOpen();
    const n = checkBatch(events, this.sizes);
    if (n === 0) return { firstId: this.refresh(), count: 0 };
    this.lease.ensure(() => this.syncUnderLock());
    const lock = this.lease.lock;
    const firstId = this.endId;
    try {
      this.writeBatch(events, this.sizes, n);
      lock.assertStillOurs();
    } catch (err) {
      try {
        this.abortWrite();
      } catch {
        // The next writer's recovery cuts the tail.
      }
      lock.release();
      // The topic deleted under the batch (its folder renamed away: a new segment cannot be created) is no I/O fault.
      const explained = this.lease.folder.explain(err);
      if (explained !== err || err instanceof StorageError) throw explained;
      throw new StorageError('IO', `append to ${this.dir} failed: ${(err as Error).message}`, { file: this.dir, cause: err });
    }
    lock.touchLease();
    signalLocalCommit(this.commitKey);
    return { firstId, count: n };
  }

  flush(): void {
    this.assertOpen();
    if (this.flushBehavior !== 'buffered') this.syncToDisk();
  }

  // ---------------------------------------------------------------- reading

  read(id: number): StoredEvent {
    this.assertOpen();
    checkId('id', id);
    if (this.folderGone) throw this.lease.folder.goneError();
    if (id >= this.endId && id >= this.refresh()) {
      throw new StorageError('OUT_OF_RANGE', `event ${id} does not exist yet (end of partition ${this.index} is ${this.endId})`, {
        id, endId: this.endId,
      });
    }
    this.checkNotBeforeStart(id);
    try {
      return this.eventAt(id);
    } catch (err) {
      throw this.removedMeanwhile(err, id);
    }
  }

  /**
   * Up to `max` events from `from` on: fewer at the end, [] when `from` is the end; OUT_OF_RANGE when `from` is
   * past the end (those ids do not exist yet: a caller asking for them has lost track) or before the start.
   */
  readRange(from: number, max: number): StoredEvent[] {
    return this.readCommitted(from, max, this.eventsInRange);
  }

  /** readRange() as a run where the format makes one (see PartitionLogLike.readRun); else the records. */
  readRun(from: number, max: number): StoredRun | StoredEvent[] {
    return this.readCommitted(from, max, this.runInRange);
  }

  private readonly eventsInRange = (from: number, stop: number): StoredEvent[] => this.eventsIn(from, stop);
  private readonly runInRange = (from: number, stop: number): StoredRun | StoredEvent[] => this.runIn(from, stop);

  /** The checks of readRange() and readRun(), then `read` of events [from, stop) ([] at the end). */
  private readCommitted<T>(from: number, max: number, read: (from: number, stop: number) => T | StoredEvent[]): T | StoredEvent[] {
    this.assertOpen();
    checkId('from', from);
    checkMax(max);
    if (this.folderGone) throw this.lease.folder.goneError();
    this.checkNotBeforeStart(from);
    let end = this.endId;
    if (from + max > end) end = this.refresh();
    if (from > end) throw new StorageError('OUT_OF_RANGE', `event ${from} is past the end ${end} of partition ${this.index}`, { id: from, endId: end });
    const stop = Math.min(end, from + max);
    if (stop === from) return [];
    try {
      return read(from, stop);
    } catch (err) {
      throw this.removedMeanwhile(err, from);
    }
  }

  private checkNotBeforeStart(id: number): void {
    if (id < this.startId) throw this.beforeStart(id);
  }

  /** OUT_OF_RANGE naming the first stored id (a consumer below it was overtaken by retention). */
  private beforeStart(id: number): StorageError {
    const start = this.startId;
    return new StorageError('OUT_OF_RANGE', `event ${id} is before the first stored event ${start}`, { id, firstId: start });
  }

  /**
   * A read that failed because retention in another process removed its segment meanwhile is OUT_OF_RANGE, and one
   * that failed because the topic was deleted is TOPIC_NOT_FOUND: neither is damage.
   */
  private removedMeanwhile(err: unknown, id: number): unknown {
    if (!(err instanceof StorageError) || err.code !== 'CORRUPTION') return err;
    const gone = this.folderGoneError(err);
    if (gone !== err) return gone;
    this.refresh();
    return id < this.startId ? this.beforeStart(id) : err;
  }

  /** `err` (a failed read), or TOPIC_NOT_FOUND when it failed because the partition folder was deleted or replaced. */
  private folderGoneError(err: unknown): unknown {
    if (!this.folderGone) {
      if (!(err instanceof StorageError) || err.code !== 'CORRUPTION' || !this.lease.folder.replaced()) return err;
      this.folderGone = true;
    }
    return this.lease.folder.goneError(err);
  }

  /** Re-reads the committed end (other processes may have appended); returns it. */
  refresh(): number {
    if (this.folderGone) throw this.lease.folder.goneError();
    try {
      return this.readEnd();
    } catch (err) {
      throw this.folderGoneError(err);
    }
  }

  /**
   * Resolves true when the committed end exceeds `knownEnd`, false on timeout, abort or close. A refresh that
   * fails while waiting counts as "not yet": the caller's next read reports the error.
   */
  waitForAppend(knownEnd: number, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    this.assertOpen();
    if (typeof knownEnd !== 'number') throw new TypeError('knownEnd must be a number');
    if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs)) throw new TypeError('timeoutMs must be a number');
    // In-process appends signal the watcher directly, other processes' through inotify, with a slow poll behind.
    this.watcher ??= new CommitWatcher(this.dir, (name) => this.isCommitFile(name));
    return this.watcher.wait(() => {
      if (this.closed) return false;
      try {
        if (this.refresh() > knownEnd) return true;
      } catch {
        // below
      }
      // A deleted topic gets no more events: the waiter wakes up and its next read says why.
      if (!this.folderGone && this.lease.folder.replaced()) this.folderGone = true;
      return this.folderGone;
    }, timeoutMs, signal);
  }

  stats(): PartitionStats {
    this.assertOpen();
    this.lease.folder.assertUnchanged(); // not the stale figures of a deleted topic
    this.refresh();
    return { firstId: this.startId, endId: this.endId, events: this.endId - this.startId, ...this.formatStats() };
  }

  // ---------------------------------------------------------------- lifecycle

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.closeFiles();
    } finally {
      this.lease.lock.release();
      this.watcher?.close();
      this.watcher = null;
    }
  }

  protected assertOpen(): void {
    if (this.closed) throw new StorageError('CLOSED', `partition ${this.index} (${this.dir}) is closed`);
  }
}
