// Consumer.process on a pool's worker threads. The main thread never reads events here: it hands out jobs (a
// contiguous id range of one partition) and the workers read, select and process the events themselves.
//
// Ordering: 'ordered' (default) keeps at most one job of a partition in flight, so a partition's events are
// processed in id order while partitions run in parallel; 'unordered' lets several jobs of one partition run at once.
// Acknowledgements: event.acknowledge() in a worker is a request; the consumer's position moves to the requested id
// only once it and every earlier event delivered by this run have finished, so the committed position is always a
// contiguous prefix of completed events and a crash never skips an unprocessed one.
// Back-pressure: at most JOBS_PER_WORKER jobs of at most JOB_EVENTS events wait on each worker.

import { setMaxListeners } from 'node:events';
import type { PartitionBackend } from '../backend.js';
import { trimmedFirstId } from '../consumer/trimmed.js';
import { eventFailure, fromWire, type JobResult } from './protocol.js';
import type { PoolSession } from './worker-group.js';
import { WAIT_OVER, WakeSignal } from '../wake-signal.js';

/** Events per job: large enough to amortize a message round trip, small enough to spread partitions evenly. */
const JOB_EVENTS = 64;
/** Jobs queued per worker: one running, one ready, so a worker never waits for the main thread. */
const JOBS_PER_WORKER = 2;
/** A caught-up partition is re-checked for new commits at most this often while jobs run. */
const REFRESH_INTERVAL_MS = 2;

export type ProcessOrdering = 'ordered' | 'unordered';

/** The consumer's per-partition state this loop reads and advances. */
export interface ThreadedPartition {
  readonly index: number;
  readonly backend: PartitionBackend;
  /** Next id to hand out. */
  next: number;
  end: number;
  stopAt: number;
  active: boolean;
  lastRefresh: number;
}

/** What the loop needs from its consumer. */
export interface ThreadedHost {
  readonly parts: readonly ThreadedPartition[];
  /** close() began. */
  readonly stopped: boolean;
  /** A pending consumer-level error (a claim lost, a standby claim that failed), taken once. */
  takeError(): unknown;
  /**
   * retention: `position` of a partition lies below its first stored id `firstId`: counts the loss (onTrimmed
   * 'earliest', the caller skips to `firstId`) or throws the consumer's OUT_OF_RANGE (onTrimmed 'error').
   */
  onTrimmed(st: ThreadedPartition, position: number, firstId: number): void;
  /** Records the consumer's position (coalesced writes). */
  acknowledge(partition: number, id: number): void;
  persistAcks(): void;
  /** Fires at the consumer's wake-ups (close, a standby claim obtained, a claim lost). */
  readonly wakes: WakeSignal;
  /** Where the session delivers the acknowledgements made in workers. */
  setAckHandler(handler: ((partition: number, id: number, through?: number) => void) | undefined): void;
}

export interface ThreadedRunOptions {
  maxEvents: number;
  /** Stop after this long without any event (ms); negative: never. */
  timeoutMs: number;
  ordering: ProcessOrdering;
  /** until: 'end' was given: finish once every partition reached its stop id. */
  untilEnd: boolean;
}

interface Job {
  readonly first: number;
  readonly count: number;
  finished: boolean;
  /** Events completed from `first` on (so far while running; at the end all, or those before a failure/stop). */
  completed: number;
}

interface Track {
  readonly st: ThreadedPartition;
  /** Jobs handed out in id order, not yet folded into `prefix`. */
  readonly jobs: Job[];
  inFlight: number;
  /** Highest id acknowledged by a processor. */
  requested: number | null;
  /** Highest id such that it and every earlier event of this run completed. */
  prefix: number | null;
  /** A job ended early (failure, stop): the prefix cannot pass it. */
  blocked: boolean;
  /** First id handed out but not run (after a failure or a stop): the next run starts there. */
  firstUnrun: number;
  /** retention: the first stored id a trimmed job skips to (onTrimmed 'earliest'); -1 if none. */
  skipTo: number;
}

const isPromise = (v: unknown): v is Promise<unknown> => v instanceof Promise;

export async function runThreaded(host: ThreadedHost, session: PoolSession, workerCount: number, o: ThreadedRunOptions): Promise<number> {
  const tracks = new Map<number, Track>();
  for (const st of host.parts) {
    tracks.set(st.index, { st, jobs: [], inFlight: 0, requested: null, prefix: null, blocked: false, firstUnrun: Infinity, skipTo: -1 });
  }
  const workerLoad = new Array<number>(workerCount).fill(0);
  let inFlight = 0;
  let dispatched = 0;
  let processed = 0;
  let stop = false;
  let failure: unknown;
  let cursor = 0;
  let lastEvent = performance.now();
  // Fires when a job finishes (waits listen to it without piling reactions on a long-pending promise).
  const ticks = new WakeSignal();
  const signal = (): void => ticks.fire();

  const advance = (tr: Track): void => {
    while (tr.jobs.length > 0 && !tr.blocked) {
      const job = tr.jobs[0];
      if (job.completed > 0) tr.prefix = Math.max(tr.prefix ?? -1, job.first + job.completed - 1);
      if (!job.finished) break;
      if (job.completed < job.count) tr.blocked = true;
      else tr.jobs.shift();
    }
    if (tr.requested !== null && tr.prefix !== null) host.acknowledge(tr.st.index, Math.min(tr.requested, tr.prefix));
  };

  host.setAckHandler((partition, id, through) => {
    const tr = tracks.get(partition);
    if (!tr) return;
    if (through !== undefined) {
      // Every event of the running job up to `through` completed.
      const job = tr.jobs.find((j) => through >= j.first && through < j.first + j.count);
      if (job && !job.finished) job.completed = Math.max(job.completed, through - job.first + 1);
    }
    if (tr.requested === null || id > tr.requested) tr.requested = id;
    advance(tr);
  });

  const finish = (tr: Track, job: Job, w: number, r: JobResult | undefined, err: unknown): void => {
    job.finished = true;
    tr.inFlight--;
    workerLoad[w]--;
    inFlight--;
    if (r) {
      job.completed = r.completed;
      processed += r.completed;
      if (r.stoppedId !== undefined) {
        stop = true;
        tr.firstUnrun = Math.min(tr.firstUnrun, r.stoppedId + 1);
      }
      const firstId = r.failedId !== undefined && r.error ? trimmedFirstId(fromWire(r.error), r.failedId) : null;
      if (r.failedId !== undefined && firstId !== null) {
        // retention removed the event before the worker read it: the consumer's onTrimmed decides (the run stops
        // here; under 'earliest' the next one starts at the first stored id, under 'error' nothing moves).
        stop = true;
        tr.firstUnrun = Math.min(tr.firstUnrun, r.failedId);
        try {
          host.onTrimmed(tr.st, r.failedId, firstId);
          tr.skipTo = Math.max(tr.skipTo, firstId);
        } catch (err) {
          failure ??= err;
        }
      } else if (r.failedId !== undefined) {
        processed++; // the failed event was processed (as process() counts inline) and is consumed
        stop = true;
        tr.firstUnrun = Math.min(tr.firstUnrun, r.failedId + 1);
        if (r.error) failure ??= eventFailure(tr.st.index, r.failedId, r.error);
      }
    } else {
      // The job never ran to the end (the worker failed or the pool was closed under it): what it reported
      // completed stays done, the rest is handed out again by the next run.
      tr.firstUnrun = Math.min(tr.firstUnrun, job.first + job.completed);
      stop = true;
      if (!host.stopped) failure ??= err;
    }
    advance(tr);
    signal();
  };

  /** Refreshes caught-up partitions (rate limited); true if any has new events. */
  const refreshCaughtUp = (force: boolean): boolean => {
    let grew = false;
    const now = performance.now();
    for (const st of host.parts) {
      if (!st.active || st.next < st.end || st.next >= st.stopAt) continue;
      if (!force && now - st.lastRefresh < REFRESH_INTERVAL_MS) continue;
      st.lastRefresh = now;
      const end = st.backend.refresh();
      if (isPromise(end)) continue; // engines that answer asynchronously are not threaded (the files engine is sync)
      if (end > st.end) {
        st.end = end;
        grew = true;
      }
    }
    return grew;
  };

  const pickWorker = (): number => {
    let best = -1;
    for (let i = 0; i < workerCount; i++) {
      if (workerLoad[i] < JOBS_PER_WORKER && (best < 0 || workerLoad[i] < workerLoad[best])) best = i;
    }
    return best;
  };

  /**
   * retention: a partition whose next id was removed (by this or another process) before it was handed out moves to
   * the first stored id under onTrimmed 'earliest'; under 'error' the run stops with the consumer's error. True if
   * the partition may be handed out.
   */
  const skipTrimmed = (tr: Track): boolean => {
    const st = tr.st;
    if (tr.inFlight > 0) return true; // jobs in flight report a removed range themselves
    const first = st.backend.startId();
    if (isPromise(first) || first <= st.next) return true; // engines that answer asynchronously are not threaded
    try {
      host.onTrimmed(st, st.next, first);
      st.next = first;
      return st.next < Math.min(st.end, st.stopAt);
    } catch (err) {
      failure ??= err;
      stop = true;
      return false;
    }
  };

  /** Hands out jobs while a worker has room and some partition has events it may start. */
  const dispatch = (): void => {
    let refreshed = false;
    while (!stop && dispatched < o.maxEvents) {
      const w = pickWorker();
      if (w < 0) return;
      const parts = host.parts;
      let chosen: Track | undefined;
      for (let k = 0; k < parts.length && !chosen; k++) {
        const st = parts[(cursor + k) % parts.length];
        const tr = tracks.get(st.index)!;
        if (!st.active || Math.min(st.end, st.stopAt) <= st.next) continue;
        if (o.ordering === 'ordered' && tr.inFlight > 0) continue;
        chosen = tr;
        cursor = (cursor + k + 1) % parts.length;
      }
      if (!chosen) {
        if (refreshed || !refreshCaughtUp(false)) return;
        refreshed = true;
        continue;
      }
      const st = chosen.st;
      if (!skipTrimmed(chosen)) continue;
      const available = Math.min(st.end, st.stopAt) - st.next;
      let count = Math.min(JOB_EVENTS, available, o.maxEvents - dispatched);
      // Unordered: spread a short backlog of one partition over the workers instead of one job taking it all.
      if (o.ordering === 'unordered') count = Math.min(count, Math.max(1, Math.ceil(available / workerCount)));
      const job: Job = { first: st.next, count, finished: false, completed: 0 };
      st.next += count;
      dispatched += count;
      lastEvent = performance.now();
      chosen.jobs.push(job);
      chosen.inFlight++;
      workerLoad[w]++;
      inFlight++;
      const tr = chosen;
      session.run(w, st.index, job.first, count).then(
        (r) => finish(tr, job, w, r, undefined),
        (err) => finish(tr, job, w, undefined, err),
      );
    }
  };

  /** Sleeps until a caught-up partition gets a commit, a job finishes, the consumer wakes, or `ms` pass. */
  const waitForWork = async (ms: number): Promise<void> => {
    const ac = new AbortController();
    setMaxListeners(host.parts.length + 1, ac.signal); // one listener per partition (see delivery.ts)
    const waits: Promise<unknown>[] = [];
    for (const st of host.parts) {
      if (st.active && st.next >= st.end && st.next < st.stopAt) waits.push(st.backend.waitForAppend(st.end, ms, ac.signal).catch(() => false));
    }
    let timer: NodeJS.Timeout | undefined;
    if (ms >= 0) waits.push(new Promise<void>((r) => (timer = setTimeout(r, ms))));
    try {
      await WakeSignal.race(waits, [ticks, host.wakes]);
    } finally {
      ac.abort(WAIT_OVER);
      if (timer) clearTimeout(timer);
      for (const st of host.parts) st.lastRefresh = 0;
    }
  };

  try {
    while (true) {
      if (!stop) {
        const err = host.takeError();
        if (err !== undefined) {
          failure ??= err;
          stop = true;
        }
        if (host.stopped) stop = true;
      }
      if (!stop) dispatch();
      if (inFlight === 0) {
        if (stop || dispatched >= o.maxEvents) break;
        if (o.untilEnd && host.parts.every((st) => st.active && st.next >= st.stopAt)) break;
        if (refreshCaughtUp(true)) continue;
        host.persistAcks();
        let ms = -1;
        if (o.timeoutMs >= 0) {
          ms = o.timeoutMs - (performance.now() - lastEvent);
          if (ms <= 0) break;
        }
        // At most a minute per wait (the loop comes back here): a timeoutMs beyond a timer's range would fire at once.
        await waitForWork(ms < 0 ? 60_000 : Math.min(ms, 60_000));
        continue;
      }
      // Jobs are running: wait for one to finish, or for new events if a worker has room for them.
      const room = !stop && dispatched < o.maxEvents && pickWorker() >= 0;
      if (room) await waitForWork(60_000);
      else await WakeSignal.race([], [ticks, host.wakes]);
    }
  } finally {
    host.setAckHandler(undefined);
    // Events handed out but not run are handed out again by the next run of this consumer.
    for (const tr of tracks.values()) {
      if (tr.firstUnrun < tr.st.next) tr.st.next = tr.firstUnrun;
      if (tr.skipTo > tr.st.next) tr.st.next = tr.skipTo;
    }
    host.persistAcks();
  }
  if (failure !== undefined) throw failure;
  return processed;
}
