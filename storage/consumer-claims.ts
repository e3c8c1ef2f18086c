// Exclusivity of named consumers: at most one live consumer of a given name reads a given partition.
// A claim is a GenerationLock in the folder `<topic>/consumers/<encoded name>/<NNNNNNNN>.claim.d` (see
// generation-lock.ts, docs/locks.md): a holder that dies (on this machine) is recognised at once and its claim is
// taken by exactly one contender; a live holder's claim is never taken, however long it stalls.
import fs from 'node:fs';
import { join } from 'node:path';
import { checkPartition, consumerDir, ensureConsumerDir, parsePartitionFile, partitionStem } from './consumer-name.js';
import { isIoErrno } from './fs-helpers.js';
import { StorageError } from './types.js';
import { GenerationLock, isAbandoned, type Lease } from './generation-lock.js';
import { legacyHolder } from './legacy-lock.js';
import { releaseLater } from './lock-release-retry.js';
import { describeProcess } from './process-liveness.js';

/** Default of `staleMs`: sets how often a held claim checks that it is still held (a quarter of it, >= 1 s). */
export const DEFAULT_CLAIM_STALE_MS = 5000;
/** How often a standby retries when nothing wakes it earlier (a release wakes it at once via fs.watch). */
export const DEFAULT_CLAIM_POLL_MS = 250;

const CLAIM_SUFFIX = '.claim.d';
/** The previous version's claim directory (a proper-lockfile lock), respected while its holder lives. */
const LEGACY_CLAIM_SUFFIX = '.claim';

export interface ClaimOptions {
  /** false: a taken partition fails at once with CONSUMER_BUSY. true: wait until the holder releases or dies. */
  standby: boolean;
  /** Aborts a standby wait; acquire then rejects with StorageError CLOSED (cause: the abort reason). */
  signal?: AbortSignal;
  /** Standby retry period, ms (default 250): how soon a holder's death is noticed (a release wakes at once). */
  pollMs?: number;
  /**
   * ms, default 5000, at least 2000. Claims no longer go stale (a live holder keeps its claim); a held claim checks
   * every staleMs/4 (at least every second) that it is still held, and reports a loss through onLost.
   */
  staleMs?: number;
}

/** A held claim on one partition for one consumer name. */
export interface Claim {
  readonly consumerName: string;
  readonly partition: number;
  /** True once the claim was found gone (its folder removed or the claim taken over from outside). */
  readonly lost: boolean;
  readonly released: boolean;
  /** Gives the partition up (idempotent; a no-op once lost). Synchronous. */
  release(): void;
  /**
   * Checks now (one read of the claim's folder) that the claim is still held, as the periodic check does (a loss
   * found is reported to the onLost listeners). false once lost or released.
   */
  confirm(): boolean;
  /** Called once if the claim is lost; called on the next tick if it already is. Listener errors are swallowed. */
  onLost(cb: (err: Error) => void): void;
}

/** The partition whose claim a consumer-folder entry is (new or old format), or null. */
export function claimEntryPartition(fileName: string): number | null {
  return parsePartitionFile(fileName, CLAIM_SUFFIX) ?? parsePartitionFile(fileName, LEGACY_CLAIM_SUFFIX);
}

function claimFolder(topicDir: string, consumerName: string, partition: number): string {
  return join(consumerDir(topicDir, consumerName), `${partitionStem(partition)}${CLAIM_SUFFIX}`);
}

function legacyClaimDir(topicDir: string, consumerName: string, partition: number): string {
  return join(consumerDir(topicDir, consumerName), `${partitionStem(partition)}${LEGACY_CLAIM_SUFFIX}`);
}

function staleOf(staleMs: number | undefined): number {
  if (staleMs === undefined) return DEFAULT_CLAIM_STALE_MS;
  if (typeof staleMs !== 'number') throw new TypeError('staleMs must be a number');
  if (!Number.isFinite(staleMs) || staleMs < 2000) {
    throw new StorageError('BAD_CONFIG', `staleMs must be a finite number >= 2000, got ${staleMs}`);
  }
  return staleMs;
}

class HeldClaim implements Claim {
  private isLost = false;
  private isReleased = false;
  private lostError: Error | null = null;
  private readonly listeners: Array<(err: Error) => void> = [];
  private readonly checker: NodeJS.Timeout;

  constructor(
    readonly consumerName: string,
    readonly partition: number,
    private readonly gens: GenerationLock,
    private readonly lease: Lease,
    checkEveryMs: number,
  ) {
    this.checker = setInterval(() => this.check(), checkEveryMs);
    this.checker.unref();
  }

  get lost(): boolean {
    return this.isLost;
  }
  get released(): boolean {
    return this.isReleased;
  }

  confirm(): boolean {
    if (!this.isLost && !this.isReleased) this.check();
    return !this.isLost && !this.isReleased;
  }

  private check(): void {
    let held: boolean;
    try {
      held = this.gens.holds(this.lease);
    } catch {
      held = false; // the folder cannot be read: the claim cannot be shown to be ours
    }
    if (!held) {
      this.markLost(new StorageError('LOCK_FAILED', `claim ${this.gens.dir} of partition ${this.partition} for consumer ${JSON.stringify(this.consumerName)} was lost (removed or taken over)`, {
        consumer: this.consumerName, partition: this.partition, file: this.gens.dir,
      }));
    }
  }

  private markLost(err: Error): void {
    if (this.isLost || this.isReleased) return;
    this.isLost = true;
    this.lostError = err;
    clearInterval(this.checker);
    this.gens.abandon(this.lease);
    for (const cb of this.listeners.splice(0)) callQuietly(cb, err);
  }

  release(): void {
    if (this.isReleased || this.isLost) return;
    this.isReleased = true;
    clearInterval(this.checker);
    this.listeners.length = 0;
    try {
      // false: no longer ours (e.g. the consumer folder was removed with the claim in it): nothing to give up.
      this.gens.release(this.lease);
    } catch (cause) {
      // The claim must not stay held by this live process (no consumer of the name could ever start): it is tried
      // again in the background until it goes (an exit gives it up as well).
      releaseLater(this.gens, this.lease);
      throw new StorageError('IO', `cannot release claim ${this.gens.dir} (retried in the background): ${(cause as Error).message}`, { file: this.gens.dir, cause });
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

function busyError(topicDir: string, consumerName: string, partition: number, file: string, holder: string): StorageError {
  return new StorageError(
    'CONSUMER_BUSY',
    `partition ${partition} of topic ${topicDir} is already being consumed by a live consumer named ${JSON.stringify(consumerName)} (${holder})`,
    { consumer: consumerName, partition, file },
  );
}

function abortError(signal: AbortSignal, consumerName: string, partition: number): StorageError {
  return new StorageError('CLOSED', `wait for partition ${partition} of consumer ${JSON.stringify(consumerName)} aborted`, {
    consumer: consumerName,
    partition,
    cause: signal.reason,
  });
}

/** Waits `ms`, or less if something changes in `dir` (a release publishes a file there), or rejects on abort. */
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

type Attempt = { claim: HeldClaim } | { busy: string };

/** Claims this thread has taken so far (any topic, any consumer): what a cached listing of a consumer's folder checks. */
let claimsTaken = 0;
export function claimsTakenSoFar(): number {
  return claimsTaken;
}

/** One synchronous attempt (creates the consumer's folder if needed). */
function attempt(topicDir: string, consumerName: string, partition: number, stale: number): Attempt {
  const folder = claimFolder(topicDir, consumerName, partition);
  for (let tries = 0; ; tries++) {
    ensureConsumerDir(topicDir, consumerName, false);
    try {
      const legacy = legacyHolder(legacyClaimDir(topicDir, consumerName, partition), stale);
      if (legacy !== null) {
        return { busy: `${legacy.owner === null ? 'a process' : describeProcess(legacy.owner)} of an older diaspora-stream version` };
      }
      const gens = new GenerationLock(folder);
      const r = gens.tryTake();
      if (!r.taken) {
        const h = r.holder;
        return { busy: h === null || h.state === 'free' ? 'contended' : h.state === 'unknown' ? 'a record this version does not understand' : describeProcess(h) };
      }
      claimsTaken++;
      return { claim: new HeldClaim(consumerName, partition, gens, r.lease, Math.max(1000, Math.floor(stale / 4))) };
    } catch (cause) {
      if (cause instanceof StorageError) throw cause;
      // The consumer was removed meanwhile: re-create its folder and try again.
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT' && tries < 100) continue;
      // Short of descriptors or disk (EMFILE, ENOSPC...): IO, not a lock problem.
      if (isIoErrno(cause)) {
        throw new StorageError('IO', `cannot claim ${folder}: ${(cause as Error).message}`, { file: folder, cause });
      }
      throw new StorageError('LOCK_FAILED', `cannot claim ${folder}: ${(cause as Error).message}`, { file: folder, cause });
    }
  }
}

export class ConsumerClaims {
  /**
   * Claims `partition` for `consumerName`. Without standby a partition held by a live consumer (in this or another
   * process) rejects with CONSUMER_BUSY; with standby it waits (watch + poll, no spinning) until the holder releases
   * it or dies, then takes it. Creates the consumer's directory if needed.
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

    const folder = claimFolder(topicDir, consumerName, partition);
    ensureConsumerDir(topicDir, consumerName, false);
    for (;;) {
      if (signal?.aborted) throw abortError(signal, consumerName, partition);
      const a = attempt(topicDir, consumerName, partition, stale);
      if ('claim' in a) {
        if (signal?.aborted) {
          a.claim.release();
          throw abortError(signal, consumerName, partition);
        }
        return a.claim;
      }
      if (!opts.standby) throw busyError(topicDir, consumerName, partition, folder, a.busy);
      await waitForChange(folder, pollMs, signal, () => abortError(signal!, consumerName, partition));
    }
  }

  /**
   * Synchronous, never-waiting variant used by management operations (reset, remove) that must exclude a running
   * consumer for a moment. CONSUMER_BUSY if the partition is held by a live consumer.
   */
  static tryAcquireSync(topicDir: string, consumerName: string, partition: number, staleMs?: number): Claim {
    checkPartition(partition);
    const stale = staleOf(staleMs);
    ensureConsumerDir(topicDir, consumerName, false);
    const a = attempt(topicDir, consumerName, partition, stale);
    if ('claim' in a) return a.claim;
    throw busyError(topicDir, consumerName, partition, claimFolder(topicDir, consumerName, partition), a.busy);
  }

  /** True if a live consumer (any process) holds the claim. */
  static isClaimed(topicDir: string, consumerName: string, partition: number, staleMs?: number): boolean {
    const stale = staleOf(staleMs);
    const folder = claimFolder(topicDir, consumerName, partition);
    try {
      if (legacyHolder(legacyClaimDir(topicDir, consumerName, partition), stale) !== null) return true;
      const now = new GenerationLock(folder).current();
      return now !== null && now.record !== null && now.record.state !== 'free' && !isAbandoned(now.record);
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw new StorageError('IO', `cannot check claim ${folder}: ${(cause as Error).message}`, { file: folder, cause });
    }
  }
}
