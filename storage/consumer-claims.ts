// Exclusivity of named consumers: at most one live consumer of a given name reads a given partition.
// A claim is a proper-lockfile lock directory `<topic>/consumers/<encoded name>/<NNNNNNNN>.claim` whose mtime the
// holder refreshes every second or so; a holder that dies stops refreshing and its claim goes stale after
// `staleMs`, so a standby (or a new consumer) takes it over within seconds without any manual cleanup.
import fs from 'node:fs';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { checkPartition, consumerDir, ensureConsumerDir, partitionStem } from './consumer-name.js';
import { StorageError } from './types.js';

/** A claim older than this (no mtime refresh) belongs to a dead holder. proper-lockfile's minimum is 2000. */
export const DEFAULT_CLAIM_STALE_MS = 5000;
/** How often a standby retries when nothing wakes it earlier (a claim removal wakes it at once via fs.watch). */
export const DEFAULT_CLAIM_POLL_MS = 250;

export interface ClaimOptions {
  /** false: a taken partition fails at once with CONSUMER_BUSY. true: wait until the holder releases or dies. */
  standby: boolean;
  /** Aborts a standby wait; acquire then rejects with StorageError CLOSED (cause: the abort reason). */
  signal?: AbortSignal;
  /** Standby retry period, ms (default 250). */
  pollMs?: number;
  /** Staleness threshold, ms (default 5000, at least 2000). All users of one topic should use the same value. */
  staleMs?: number;
}

/** A held claim on one partition for one consumer name. */
export interface Claim {
  readonly consumerName: string;
  readonly partition: number;
  /** True once the lock was found compromised (e.g. taken over after this process stalled past `staleMs`). */
  readonly lost: boolean;
  readonly released: boolean;
  /** Gives the partition up (idempotent; a no-op once lost). Synchronous. */
  release(): void;
  /** Called once if the claim is lost; called on the next tick if it already is. Listener errors are swallowed. */
  onLost(cb: (err: Error) => void): void;
}

import { breakLockOfDeadHolder, isProcessDead, readOwner, removeOwnIdentity, writeOwner } from './process-liveness.js';

function claimPath(topicDir: string, consumerName: string, partition: number): string {
  return join(consumerDir(topicDir, consumerName), `${partitionStem(partition)}.claim`);
}

function staleOf(staleMs: number | undefined): number {
  if (staleMs === undefined) return DEFAULT_CLAIM_STALE_MS;
  if (typeof staleMs !== 'number') throw new TypeError('staleMs must be a number');
  if (!Number.isFinite(staleMs) || staleMs < 2000) {
    throw new StorageError('BAD_CONFIG', `staleMs must be a finite number >= 2000, got ${staleMs}`);
  }
  return staleMs;
}

function lockOptions(path: string, stale: number) {
  // The update period must leave room for a few missed refreshes before the claim looks stale.
  return { realpath: false, lockfilePath: path, stale, update: Math.max(1000, Math.floor(stale / 4)) };
}

class HeldClaim implements Claim {
  private isLost = false;
  private isReleased = false;
  private lostError: Error | null = null;
  private readonly listeners: Array<(err: Error) => void> = [];

  constructor(
    readonly consumerName: string,
    readonly partition: number,
    private readonly path: string,
  ) {}

  get lost(): boolean {
    return this.isLost;
  }
  get released(): boolean {
    return this.isReleased;
  }

  /** proper-lockfile's onCompromised: must never throw (its default crashes the process). */
  markLost(err: Error): void {
    if (this.isLost || this.isReleased) return;
    this.isLost = true;
    this.lostError = err;
    for (const cb of this.listeners.splice(0)) callQuietly(cb, err);
  }

  release(): void {
    if (this.isReleased || this.isLost) return;
    this.isReleased = true;
    try {
      removeOwnIdentity(`${this.path}.owner`);
      lockfile.unlockSync(this.path, { realpath: false, lockfilePath: this.path });
    } catch (cause) {
      // ENOTACQUIRED: proper-lockfile already gave it up; anything else leaves a directory that goes stale.
      if ((cause as NodeJS.ErrnoException).code !== 'ENOTACQUIRED') {
        throw new StorageError('IO', `cannot release claim ${this.path}: ${(cause as Error).message}`, {
          file: this.path,
          cause,
        });
      }
    }
  }

  onLost(cb: (err: Error) => void): void {
    if (typeof cb !== 'function') throw new TypeError('onLost expects a function');
    if (this.isLost) {
      const err = this.lostError!;
      process.nextTick(() => callQuietly(cb, err));
    } else if (!this.isReleased) {
      this.listeners.push(cb);
    }
  }
}

function callQuietly(cb: (err: Error) => void, err: Error): void {
  try {
    cb(err);
  } catch {
    // A listener's failure must not turn a lost claim into a crashed process.
  }
}

function busyError(topicDir: string, consumerName: string, partition: number, path: string): StorageError {
  return new StorageError(
    'CONSUMER_BUSY',
    `partition ${partition} of topic ${topicDir} is already being consumed by a live consumer named ${JSON.stringify(consumerName)}`,
    { consumer: consumerName, partition, file: path },
  );
}

function abortError(signal: AbortSignal, consumerName: string, partition: number): StorageError {
  return new StorageError('CLOSED', `wait for partition ${partition} of consumer ${JSON.stringify(consumerName)} aborted`, {
    consumer: consumerName,
    partition,
    cause: signal.reason,
  });
}

/** Waits `ms`, or less if something changes in `dir` (a released claim is removed there), or rejects on abort. */
function waitForChange(dir: string, ms: number, signal: AbortSignal | undefined, onAbort: () => Error): Promise<void> {
  return new Promise((resolve, reject) => {
    let watcher: fs.FSWatcher | null = null;
    const done = (err?: Error) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', abort);
      try {
        watcher?.close();
      } catch {
        // already closed
      }
      if (err) reject(err);
      else resolve();
    };
    const abort = () => done(onAbort());
    const timer = setTimeout(() => done(), ms);
    signal?.addEventListener('abort', abort, { once: true });
    try {
      watcher = fs.watch(dir, { persistent: false }, () => done());
      watcher.on('error', () => done());
    } catch {
      watcher = null; // no watch support (or dir gone): the timer alone drives the retry
    }
  });
}

export class ConsumerClaims {
  /**
   * Claims `partition` for `consumerName`. Without standby a partition held by a live consumer (in this or another
   * process) rejects with CONSUMER_BUSY; with standby it waits (watch + poll, no spinning) until the holder releases
   * it or dies (its claim goes stale after `staleMs`), then takes it. Creates the consumer's directory if needed.
   */
  static async acquire(topicDir: string, consumerName: string, partition: number, opts: ClaimOptions): Promise<Claim> {
    checkPartition(partition);
    if (opts === null || typeof opts !== 'object') throw new TypeError('acquire options must be an object');
    if (typeof opts.standby !== 'boolean') throw new TypeError('options.standby must be a boolean');
    const stale = staleOf(opts.staleMs);
    const pollMs = opts.pollMs ?? DEFAULT_CLAIM_POLL_MS;
    if (typeof pollMs !== 'number') throw new TypeError('pollMs must be a number');
    if (!Number.isFinite(pollMs) || pollMs < 1) throw new StorageError('BAD_CONFIG', `pollMs must be >= 1, got ${pollMs}`);
    const signal = opts.signal;
    if (signal !== undefined && !(signal instanceof AbortSignal)) throw new TypeError('signal must be an AbortSignal');

    const path = claimPath(topicDir, consumerName, partition);
    const dir = ensureConsumerDir(topicDir, consumerName, false);
    for (;;) {
      if (signal?.aborted) throw abortError(signal, consumerName, partition);
      const claim = new HeldClaim(consumerName, partition, path);
      try {
        await lockfile.lock(path, { ...lockOptions(path, stale), retries: 0, onCompromised: (err) => claim.markLost(err) });
        writeOwner(`${path}.owner`);
        if (signal?.aborted) {
          claim.release();
          throw abortError(signal, consumerName, partition);
        }
        return claim;
      } catch (cause) {
        if (cause instanceof StorageError) throw cause;
        const code = (cause as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') {
          ensureConsumerDir(topicDir, consumerName, false); // the consumer was removed meanwhile: recreate
          continue;
        }
        if (code !== 'ELOCKED') {
          throw new StorageError('LOCK_FAILED', `cannot claim ${path}: ${(cause as Error).message}`, { file: path, cause });
        }
      }
      // A holder that died on this machine is recognised at once (pid + start time), not after staleMs.
      if (breakLockOfDeadHolder(path, `${path}.owner`)) continue;
      if (!opts.standby) throw busyError(topicDir, consumerName, partition, path);
      await waitForChange(dir, pollMs, signal, () => abortError(signal!, consumerName, partition));
    }
  }

  /**
   * Synchronous, never-waiting variant used by management operations (reset, remove) that must exclude a running
   * consumer for a moment. CONSUMER_BUSY if the partition is held by a live consumer.
   */
  static tryAcquireSync(topicDir: string, consumerName: string, partition: number, staleMs?: number): Claim {
    checkPartition(partition);
    const stale = staleOf(staleMs);
    const path = claimPath(topicDir, consumerName, partition);
    ensureConsumerDir(topicDir, consumerName, false);
    const claim = new HeldClaim(consumerName, partition, path);
    try {
      try {
        lockfile.lockSync(path, { ...lockOptions(path, stale), onCompromised: (err) => claim.markLost(err) });
      } catch (cause) {
        if ((cause as NodeJS.ErrnoException).code !== 'ELOCKED' || !breakLockOfDeadHolder(path, `${path}.owner`)) throw cause;
        lockfile.lockSync(path, { ...lockOptions(path, stale), onCompromised: (err) => claim.markLost(err) });
      }
      writeOwner(`${path}.owner`);
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ELOCKED') throw busyError(topicDir, consumerName, partition, path);
      throw new StorageError('LOCK_FAILED', `cannot claim ${path}: ${(cause as Error).message}`, { file: path, cause });
    }
    return claim;
  }

  /** True if a live consumer (any process) holds the claim: its lock directory exists and is not stale. */
  static isClaimed(topicDir: string, consumerName: string, partition: number, staleMs?: number): boolean {
    const stale = staleOf(staleMs);
    const path = claimPath(topicDir, consumerName, partition);
    try {
      if (!lockfile.checkSync(path, { realpath: false, lockfilePath: path, stale })) return false;
      const owner = readOwner(`${path}.owner`);
      return !(owner && isProcessDead(owner));
    } catch (cause) {
      throw new StorageError('IO', `cannot check claim ${path}: ${(cause as Error).message}`, { file: path, cause });
    }
  }
}
