// Exclusive claims of (topic, consumer name, partition) across clients: a key in a KV bucket whose entries
// expire after `claimTtlMs`. Taking a claim is create-if-absent; the holder renews it (compare-and-set on its
// revision) every third of the TTL, so a crashed holder's claim disappears within the TTL and a standby takes
// over. A standby watches the key (a release is seen at once) and retries at each third of the TTL (expiry).
// A holder on this same machine (same hostname and boot id) that is dead (pid gone or reused) is replaced at
// once, without waiting for the TTL, like the files driver does (a restarted daemon resumes immediately).

import fs from 'node:fs';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { KvWatchInclude, type KV } from '@nats-io/kv';
import type { ClaimHandle } from '../../backend.js';
import { currentProcessIdentity, isProcessDead } from '../../../storage/process-liveness.js';
import { DiasporaError, ErrorCode } from '../../errors.js';
import { apiCode, isTransient, JsCode, natsError, sleep } from './nats-errors.js';

export interface ClaimOwner {
  id: string;
  host: string;
  boot: string;
  pid: number;
  /** Process start time (guards against pid reuse), null where unknown. */
  start: string | null;
  since: string;
}

function bootId(): string {
  try {
    return fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
}

const BOOT_ID = bootId();
/** Above Linux's largest possible pid (PID_MAX_LIMIT, 2^22): a process that certainly does not exist. */
const NO_SUCH_PID = 2 ** 22 + 1;

/** The holder ran on this machine (this boot) and its process is gone. */
function isDeadLocalHolder(o: ClaimOwner | undefined): boolean {
  if (!o || o.host !== hostname() || !BOOT_ID || o.boot !== BOOT_ID || typeof o.pid !== 'number') return false;
  if (o.pid === process.pid) return false;
  return isProcessDead({ pid: o.pid, start: o.start ?? null });
}

export class NatsClaims {
  constructor(
    private readonly kv: KV,
    private readonly ttlMs: number,
    private readonly retryMs: number,
  ) {}

  /** Is the key currently held by a live claim? */
  async isHeld(key: string): Promise<boolean> {
    const e = await this.kv.get(key);
    return e !== null && e.operation === 'PUT';
  }

  async acquire(
    key: string,
    what: string,
    opts: { standby: boolean; signal?: AbortSignal; beforeRelease?: () => Promise<void> },
  ): Promise<ClaimHandle & { readonly lost: boolean }> {
    const me = currentProcessIdentity();
    const owner: ClaimOwner = { id: randomBytes(8).toString('hex'), host: hostname(), boot: BOOT_ID, pid: me.pid, start: me.start, since: new Date().toISOString() };
    const value = JSON.stringify(owner);
    const deadline = () => Date.now() + this.retryMs;
    let transientUntil = deadline();
    let revision: number;
    for (;;) {
      if (opts.signal?.aborted) throw new DiasporaError(ErrorCode.CLOSED, `${what}: claim wait aborted`);
      try {
        revision = await this.kv.create(key, value);
        break;
      } catch (err) {
        if (apiCode(err) !== JsCode.WRONG_LAST_SEQUENCE) {
          if (isTransient(err) && Date.now() < transientUntil) {
            await sleep(100, opts.signal);
            continue;
          }
          throw natsError(err, `${what}: claim`);
        }
        transientUntil = deadline();
      }
      const holder = await this.kv.get(key).catch(() => null);
      let o: ClaimOwner | undefined;
      try {
        o = holder?.operation === 'PUT' ? holder.json<ClaimOwner>() : undefined;
      } catch {
        // an unreadable holder record is left to expire
      }
      if (holder && isDeadLocalHolder(o)) {
        try {
          revision = await this.kv.update(key, value, holder.revision);
          break;
        } catch {
          continue; // someone else replaced it first, or it changed: look again
        }
      }
      if (!opts.standby) {
        const who = o ? ` (held by pid ${o.pid} on ${o.host} since ${o.since})` : '';
        throw new DiasporaError(ErrorCode.CONSUMER_BUSY, `${what} is already being read by a live consumer of that name${who}`);
      }
      await this.waitForRelease(key, opts.signal);
    }
    let lost = false;
    let released = false;
    const lostListeners: Array<() => void> = [];
    let renewing: Promise<void> = Promise.resolve();
    const markLost = (): void => {
      lost = true;
      clearInterval(timer);
      for (const cb of lostListeners.splice(0)) callQuietly(cb);
    };
    const renew = async (): Promise<void> => {
      try {
        revision = await this.kv.update(key, value, revision);
        return;
      } catch (err) {
        if (apiCode(err) !== JsCode.WRONG_LAST_SEQUENCE || released) return;
      }
      // The revision moved. Our own renewal, applied by a leader that died before answering, is still ours.
      // Another owner's record: lost. A DEL/PURGE marker: someone released or purged the key after us (our own
      // release never gets here), i.e. another owner held it meanwhile, or the topic was deleted: lost, never taken
      // back silently. No record at all (it expired while a failover kept renewals from landing, or the bucket lost
      // it): nobody holds it and nothing says anyone did, so take it again; another owner's record when taking it
      // again: lost.
      const now = await this.kv.get(key).catch(() => undefined);
      if (now === undefined || released) return; // cannot tell now: the next renewal looks again
      if (now !== null) {
        if (now.operation === 'PUT' && ownerIdOf(now) === owner.id) revision = now.revision;
        else markLost();
        return;
      }
      try {
        revision = await this.kv.create(key, value);
      } catch (err) {
        if (apiCode(err) === JsCode.WRONG_LAST_SEQUENCE) markLost(); // another client took it meanwhile
      }
    };
    const timer = setInterval(() => {
      if (!lost && !released) renewing = renewing.then(renew);
    }, Math.max(100, Math.floor(this.ttlMs / 3)));
    timer.unref();
    return {
      partition: -1,
      get lost() {
        return lost;
      },
      onLost: (cb) => {
        if (lost) queueMicrotask(() => callQuietly(cb));
        else if (!released) lostListeners.push(cb);
      },
      release: async () => {
        if (released) return;
        released = true;
        clearInterval(timer);
        await renewing;
        await opts.beforeRelease?.();
        if (lost) return;
        try {
          await this.kv.delete(key, { previousSeq: revision });
        } catch (err) {
          // Already expired and taken: nothing to release. Anything else leaves the key to expire after the TTL.
          if (apiCode(err) !== JsCode.WRONG_LAST_SEQUENCE && !isTransient(err)) throw natsError(err, `${what}: release`);
        }
      },
    };
  }

  /**
   * Testing hook: the key is taken from its holder by a client of this machine that then died (its record names a
   * pid that cannot exist). The holder's next renewal finds another owner (lost); the next claimer replaces the dead
   * owner at once.
   */
  async steal(key: string): Promise<void> {
    const thief: ClaimOwner = { id: randomBytes(8).toString('hex'), host: hostname(), boot: BOOT_ID, pid: NO_SUCH_PID, start: null, since: new Date().toISOString() };
    await this.kv.put(key, JSON.stringify(thief));
  }

  /** Resolves when the key is deleted, at the next third of the TTL (it may have expired), or on abort. */
  private async waitForRelease(key: string, signal?: AbortSignal): Promise<void> {
    const watch = await this.kv.watch({ key, include: KvWatchInclude.UpdatesOnly }).catch(() => undefined);
    const ac = new AbortController();
    const onAbort = (): void => ac.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const released = (async () => {
        if (!watch) return;
        for await (const e of watch) if (e.operation !== 'PUT') return;
      })();
      await Promise.race([released, sleep(Math.max(100, Math.floor(this.ttlMs / 3)), ac.signal)]);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      watch?.stop();
    }
  }
}

/** A lost-claim listener's failure must not become an unhandled error of the renewal timer. */
function callQuietly(cb: () => void): void {
  try {
    cb();
  } catch {
    // the consumer's listener only records the loss
  }
}

function ownerIdOf(entry: { json<T>(): T }): string | undefined {
  try {
    return entry.json<ClaimOwner>().id;
  } catch {
    return undefined; // an unreadable record is not ours
  }
}
