// Consumer: delivers a topic's events to a named reader, partition by partition in id order, partitions served
// fairly (round robin). It waits for new events without spinning, runs the data selector/allocator on each
// event, records acknowledgements durably (coalesced: one offsets write per partition per job, not per event)
// and holds an exclusive claim on each partition it reads so two live consumers of one name never share one.

import type { BackendRecord, ClaimHandle, OffsetsBackend, PartitionBackend, TopicBackend } from './backend.js';
import type { Serializer } from './components/serializer.js';
import type { DataAllocator, DataSelector } from './data/selection.js';
import { DiasporaError, ErrorCode, StopEventProcessor, toDiasporaError } from './errors.js';
import { Event, type Acknowledger } from './event.js';
import { makeEvent } from './make-event.js';
import { Future } from './future.js';
import { isWellFormedString } from './json-check.js';
import type { JsonObject, JsonValue } from './json.js';
import { checkOptionKeys, outOfRange } from './option-keys.js';
import { BatchSize, checkBatchSize, checkPositiveInt } from './options.js';
import { idAt, isPosition, type Position } from './positions.js';
import { checkOnTrimmed, isTrimmedError, onPositionTrimmed, trimmedFirstId, type OnTrimmed } from './consumer-trimmed.js';
import { ThreadPool, defaultThreadPool } from './thread-pool.js';
import { ConsumerThreads, type ConsumerWork } from './threads/consumer-threads.js';
import { isModuleRef, type ModuleRef } from './threads/module-ref.js';
import type { ProcessOrdering } from './threads/threaded-process.js';

/** Where a consumer starts in each partition. */
export type StartPosition = 'committed' | Position;

/** The keys ConsumerOptions accepts; any other key is BAD_CONFIG. */
export const CONSUMER_OPTION_KEYS = [
  'dataSelector',
  'dataAllocator',
  'targets',
  'batchSize',
  'maxNumBatches',
  'threadPool',
  'from',
  'until',
  'standby',
  'durable',
  'onTrimmed',
] as const;

/** The keys ProcessOptions accepts; any other key is BAD_CONFIG. */
export const PROCESS_OPTION_KEYS = ['timeoutMs', 'maxEvents', 'threadPool', 'ordering', 'concurrency'] as const;

export interface ConsumerOptions<M = JsonValue> {
  /** A function (runs on this thread), or a module reference (`{ module, export? }`, also runs on a pool's threads). */
  dataSelector?: DataSelector<M> | ModuleRef;
  dataAllocator?: DataAllocator<M> | ModuleRef;
  /** Partition indices to read (default: all). */
  targets?: readonly number[];
  /** Events read from the engine at a time (default Adaptive = 256). */
  batchSize?: BatchSize;
  /**
   * Accepted for compatibility with the Diaspora API (validated, default 2) but without effect: the built-in drivers
   * read ahead on their own (files: reads come from the mapping; nats: an ordered consumer streams).
   */
  maxNumBatches?: number;
  threadPool?: ThreadPool;
  /** Default 'committed': after the last acknowledged event (or the earliest when none). */
  from?: StartPosition;
  /** 'end': read what exists when the consumer starts, then finish. Default: wait for more forever. */
  until?: 'end';
  /** Wait for partitions claimed by another live consumer of the same name instead of failing with CONSUMER_BUSY. */
  standby?: boolean;
  /** false: no claims and no offsets written (read-only replay/inspection). Default true. */
  durable?: boolean;
  /**
   * When retention removed events at this consumer's position before it read them: 'error' (default) fails with
   * OUT_OF_RANGE, 'earliest' skips to the first stored event with a warning. lag() counts the events lost.
   */
  onTrimmed?: OnTrimmed;
}

export interface ProcessOptions {
  /** Stop after this long without any event (ms). Default: never (negative also means never). */
  timeoutMs?: number;
  maxEvents?: number;
  /** A pool of n >= 1 threads runs the processor, selector and allocator (named by module) on its worker threads. */
  threadPool?: ThreadPool;
  /**
   * Threaded pools: 'ordered' (default) processes each partition's events in id order (partitions in parallel);
   * 'unordered' also runs events of one partition concurrently. Acknowledgements never pass an unfinished event.
   */
  ordering?: ProcessOrdering;
  /** Closures on this thread: up to this many processors in flight (overlapping their awaits). Default 1. */
  concurrency?: number;
}

export type EventProcessor<M = JsonValue> = (event: Event<M>) => void | Promise<void>;

export interface PartitionLag {
  partition: number;
  /** Last acknowledged id, or null. */
  committed: number | null;
  /** Next id this consumer will deliver. */
  position: number;
  /** One past the last committed event of the partition. */
  endId: number;
  /** Events after the last acknowledgement. */
  pendingEvents: number;
  /** Approximate bytes (metadata + data) of those events. */
  pendingBytes: number;
  /** Events retention removed before this consumer read them (skipped since it opened, or below its position now). */
  lostEvents: number;
}

/** What the consumer needs from its topic. */
export interface ConsumerTopic {
  readonly name: string;
  readonly backend: TopicBackend;
  readonly serializer: Serializer;
  readonly closed: boolean;
  /** The driver that opened the topic: worker threads open the topic again through it. */
  readonly driver?: { readonly closed: boolean; readonly type?: string; readonly options?: JsonObject };
}

const ADAPTIVE_READ_BATCH = 256;
/** A caught-up partition is re-checked for new commits at most this often while others keep the consumer busy. */
const REFRESH_INTERVAL_MS = 2;
/** Give timers and I/O a turn after this much continuous delivery inside process(). */
const YIELD_EVERY_MS = 20;

interface PartitionState {
  readonly index: number;
  readonly backend: PartitionBackend;
  next: number;
  end: number;
  /** until 'end': stop before this id. */
  stopAt: number;
  buffer: BackendRecord[];
  pos: number;
  lastRefresh: number;
  claim: ClaimHandle | undefined;
  /** Claimed and positioned: events may flow. */
  active: boolean;
  committed: number | null;
  ackTarget: number | null;
  loading: Promise<void> | undefined;
  /** retention: events skipped because retention removed them first (onTrimmed: 'earliest'). */
  lost: number;
}

const isPromise = (v: unknown): v is Promise<unknown> => v instanceof Promise;

/**
 * `M` is the metadata type of the events (default: any JSON value), a compile-time promise only: events are not
 * checked against it at run time (configure a schema validator on the topic for that).
 */
export class Consumer<M = JsonValue> implements AsyncIterable<Event<M>> {
  readonly dataSelector: DataSelector | undefined;
  readonly dataAllocator: DataAllocator | undefined;
  readonly targets: readonly number[];
  readonly batchSize: BatchSize;
  readonly maxNumBatches: number;
  readonly threadPool: ThreadPool;
  readonly durable: boolean;
  private readonly parts: PartitionState[] = [];
  private readonly byIndex = new Map<number, PartitionState>();
  private readonly readBatch: number;
  private readonly from: StartPosition;
  private readonly until: 'end' | undefined;
  private readonly standby: boolean;
  private readonly onTrimmed: OnTrimmed;
  private cursor = 0;
  private offsets: OffsetsBackend | undefined;
  private waiters: Future<Event<M> | null>[] = [];
  /** Events handed to a pull() that process() gave up on; delivered first. */
  private readonly pushedBack: Event<M>[] = [];
  private waitAbort: AbortController | undefined;
  private waiting = false;
  /** Delivery stopped (close() began). */
  private stopped = false;
  /** Fully closed: claims and files released. */
  private isClosed = false;
  private closing: Promise<void> | undefined;
  private readonly startAbort = new AbortController();
  private ackDirty = false;
  private ackFuture: Future<void> | undefined;
  private processing = 0;
  private processDone: Promise<void> = Promise.resolve();
  private startupError: unknown;
  private deliveries = 0;
  private sliceStart = performance.now();
  /** Work on a pool's worker threads (module references, sessions); see lib/threads/. */
  private readonly threads: ConsumerThreads;
  private fireWake: () => void = () => {};
  private wakeSignal = new Promise<void>((r) => (this.fireWake = r));

  private constructor(
    readonly topic: ConsumerTopic,
    readonly name: string,
    options: ConsumerOptions<M>,
  ) {
    const sel = options.dataSelector;
    const alloc = options.dataAllocator;
    if (sel !== undefined && typeof sel !== 'function' && !isModuleRef(sel)) throw new TypeError('dataSelector must be a function or a module reference { module, export? }');
    if (alloc !== undefined && typeof alloc !== 'function' && !isModuleRef(alloc)) throw new TypeError('dataAllocator must be a function or a module reference { module, export? }');
    // A module reference is loaded by start() (for this thread) and by each worker thread.
    this.dataSelector = typeof sel === 'function' ? (sel as DataSelector) : undefined;
    this.dataAllocator = typeof alloc === 'function' ? (alloc as DataAllocator) : undefined;
    this.batchSize = checkBatchSize(options.batchSize);
    this.readBatch = this.batchSize === BatchSize.Adaptive ? ADAPTIVE_READ_BATCH : this.batchSize;
    this.maxNumBatches = checkPositiveInt(options.maxNumBatches, 'maxNumBatches', 2);
    if (options.threadPool !== undefined && !(options.threadPool instanceof ThreadPool)) throw new TypeError('threadPool must be a ThreadPool');
    this.threadPool = options.threadPool ?? defaultThreadPool();
    this.threads = new ConsumerThreads(topic, sel as DataSelector | ModuleRef | undefined, alloc as DataAllocator | ModuleRef | undefined);
    this.threads.check(this.threadPool, undefined);
    this.durable = options.durable ?? true;
    if (typeof this.durable !== 'boolean') throw new TypeError('durable must be a boolean');
    this.standby = options.standby ?? false;
    if (typeof this.standby !== 'boolean') throw new TypeError('standby must be a boolean');
    const from: unknown = options.from ?? 'committed';
    if (from !== 'committed' && !isPosition(from)) {
      const expected = "'committed', 'earliest', 'latest', a non-negative event id or a valid Date";
      if (typeof from === 'string' || typeof from === 'number' || from instanceof Date) throw outOfRange('from', expected, from);
      throw new TypeError(`from must be ${expected}`);
    }
    this.from = from;
    this.onTrimmed = checkOnTrimmed(options.onTrimmed);
    if (options.until !== undefined && options.until !== 'end') {
      if (typeof options.until === 'string') throw outOfRange('until', "'end' (or absent: wait forever)", options.until);
      throw new TypeError("until must be 'end' or undefined");
    }
    this.until = options.until;
    const n = topic.backend.numPartitions;
    let targets: number[];
    if (options.targets === undefined || options.targets === null) targets = Array.from({ length: n }, (_, i) => i);
    else {
      if (!Array.isArray(options.targets)) throw new TypeError('targets must be an array of partition indices');
      targets = [...new Set(options.targets as number[])];
      for (const t of targets) {
        if (!Number.isInteger(t) || t < 0) throw new TypeError('targets must be non-negative integers');
        if (t >= n) throw new DiasporaError(ErrorCode.OUT_OF_RANGE, `topic "${topic.name}" has ${n} partitions; no partition ${t}`);
      }
      if (targets.length === 0) throw new DiasporaError(ErrorCode.BAD_ARGUMENT, 'targets must name at least one partition');
    }
    this.targets = targets;
    for (const index of targets) {
      const st: PartitionState = {
        index,
        backend: topic.backend.partition(index),
        next: 0,
        end: 0,
        stopAt: Infinity,
        buffer: [],
        pos: 0,
        lastRefresh: 0,
        claim: undefined,
        active: false,
        committed: null,
        ackTarget: null,
        loading: undefined,
        lost: 0,
      };
      this.parts.push(st);
      this.byIndex.set(index, st);
    }
  }

  /** @internal use `topic.consumer(name, options)`. */
  static async open<M = JsonValue>(topic: ConsumerTopic, name: string, options: ConsumerOptions<M> = {}): Promise<Consumer<M>> {
    if (typeof name !== 'string') throw new TypeError('consumer name must be a string');
    if (name.length === 0) throw new DiasporaError(ErrorCode.BAD_NAME, 'consumer name must not be empty');
    if (!isWellFormedString(name)) throw new DiasporaError(ErrorCode.BAD_NAME, 'consumer name is not well-formed Unicode (lone surrogate)');
    checkOptionKeys(options, CONSUMER_OPTION_KEYS, 'consumer options');
    const c = new Consumer<M>(topic, name, options);
    await c.start();
    return c;
  }

  private async start(): Promise<void> {
    const work = await this.threads.loadOnThisThread();
    // Loaded from module references: set once here, before any event is made.
    (this as { dataSelector: DataSelector | undefined }).dataSelector ??= work.selector;
    (this as { dataAllocator: DataAllocator | undefined }).dataAllocator ??= work.allocator;
    if (this.durable) this.offsets = await this.topic.backend.openOffsets(this.name);
    if (!this.durable) {
      await Promise.all(this.parts.map((st) => this.activate(st)));
      return;
    }
    if (!this.standby) {
      // All or nothing: a busy partition fails the creation and releases what was taken.
      try {
        for (const st of this.parts) {
          st.claim = await this.topic.backend.claim(this.name, st.index, { standby: false });
        }
        await Promise.all(this.parts.map((st) => this.activate(st)));
      } catch (err) {
        for (const st of this.parts) if (st.claim) await st.claim.release();
        await this.offsets?.close();
        throw toDiasporaError(err);
      }
      return;
    }
    // Standby: each partition starts flowing as soon as its claim is obtained.
    for (const st of this.parts) {
      void this.topic.backend
        .claim(this.name, st.index, { standby: true, signal: this.startAbort.signal })
        .then(async (claim) => {
          if (this.stopped) {
            await claim.release();
            return;
          }
          st.claim = claim;
          await this.activate(st);
          this.wake();
        })
        .catch((err) => {
          if (this.stopped) return;
          this.startupError = toDiasporaError(err);
          this.wake();
        });
    }
  }

  /** Positions a claimed partition according to `from`, `until` and the stored offsets. */
  private async activate(st: PartitionState): Promise<void> {
    st.claim?.onLost?.(() => {
      // Another consumer of this name took the partition over: stop delivering it at once.
      st.active = false;
      st.buffer = [];
      st.pos = 0;
      st.claim = undefined;
      this.startupError = new DiasporaError(
        ErrorCode.CONSUMER_BUSY,
        `consumer "${this.name}" lost its claim on partition ${st.index} (another consumer took it over)`,
        { partition: st.index },
      );
      this.wake();
    });
    const b = st.backend;
    const start = await b.startId();
    const end = await b.refresh();
    st.end = end;
    st.lastRefresh = performance.now();
    st.committed = this.offsets ? await this.offsets.load(st.index) : null;
    if (st.committed !== null && st.committed >= end) {
      // Acknowledged events are gone (e.g. a 'buffered' log lost its tail to a power cut while the offsets file
      // kept its write). Waiting at the old position would skip the ids the next producer re-assigns.
      throw new DiasporaError(
        ErrorCode.POSITION_PAST_END,
        `consumer "${this.name}" acknowledged event ${st.committed} of partition ${st.index}, but the partition ends ` +
          `at ${end} (events were lost, e.g. cut by crash recovery); move it with resetConsumer (e.g. to ${end} or 'earliest')`,
        { partition: st.index, lastAcknowledged: st.committed, endId: end },
      );
    }
    st.ackTarget = st.committed;
    const from = this.from;
    const next = from === 'committed' ? (st.committed === null ? start : st.committed + 1) : await idAt(b, from, start, end);
    // retention: removed events this consumer had not acknowledged (an explicit position below the first id just
    // means the first stored event, as before).
    if (from === 'committed' && next < start) st.lost += onPositionTrimmed(this.onTrimmed, this.name, st.index, next, start);
    st.next = Math.max(start, next);
    // retention/'latest': the position is stored at once, so that a later plain consumer goes on from here even on
    // partitions that get nothing new meanwhile (else it would replay their old events).
    if (from === 'latest' && this.offsets && st.next > 0 && st.committed !== st.next - 1) {
      await this.offsets.store(st.index, st.next - 1);
      st.committed = st.ackTarget = st.next - 1;
    }
    if (this.until === 'end') st.stopAt = end;
    st.active = true;
  }

  get closed(): boolean {
    return this.stopped || this.topic.closed;
  }

  // ---- delivery -------------------------------------------------------------------------------------------

  /** Next record of a partition, refilling its buffer synchronously when the engine allows; undefined if none now. */
  private nextRecord(st: PartitionState): BackendRecord | undefined | Promise<void> {
    if (st.pos < st.buffer.length) return st.buffer[st.pos++];
    if (!st.active || st.next >= st.stopAt) return undefined;
    if (st.loading) return st.loading;
    if (st.next >= st.end) {
      // Only a caught-up partition needs the clock (it is not read per event).
      const now = performance.now();
      if (now - st.lastRefresh < REFRESH_INTERVAL_MS) return undefined;
      st.lastRefresh = now;
      const end = st.backend.refresh();
      if (isPromise(end)) {
        st.loading = end.then(
          (e) => {
            st.end = Math.max(st.end, e);
            st.loading = undefined;
          },
          (err) => {
            st.loading = undefined;
            throw err;
          },
        );
        return st.loading;
      }
      st.end = Math.max(st.end, end);
      if (st.next >= st.end) return undefined;
    }
    // Engines read ahead in their own way (files: the mapping is there; nats: an ordered consumer streams
    // sequential reads), so batches are asked for one at a time: measured, asking ahead from here made the nats
    // driver fall back to single-message gets and read 4x slower.
    const max = Math.min(this.readBatch, st.stopAt - st.next, st.end - st.next);
    let recs: BackendRecord[] | Promise<BackendRecord[]>;
    try {
      recs = st.backend.readRange(st.next, max);
    } catch (err) {
      // retention: the position was removed meanwhile: skip to the first id ('earliest') or fail without moving on.
      const first = trimmedFirstId(err, st.next);
      if (first !== null) {
        st.lost += onPositionTrimmed(this.onTrimmed, this.name, st.index, st.next, first);
        st.next = first;
        return this.nextRecord(st);
      }
      // One damaged event must not take the good ones of its batch with it: read that one alone (it throws, and
      // step() skips it) and go on in batches after it.
      if (max === 1) throw err;
      recs = st.backend.readRange(st.next, 1);
    }
    if (isPromise(recs)) {
      st.loading = recs.then(
        (r) => {
          st.buffer = r;
          st.pos = 0;
          st.next += r.length;
          st.loading = undefined;
        },
        (err) => {
          st.loading = undefined;
          throw err;
        },
      );
      return st.loading;
    }
    st.buffer = recs;
    st.pos = 0;
    st.next += recs.length;
    if (recs.length === 0) return undefined;
    st.pos = 1;
    return recs[0];
  }

  /**
   * One step of delivery without waiting: an Event, `null` at the end (until 'end' reached / closed),
   * `undefined` when nothing is available now, or a promise when an asynchronous engine is loading.
   * Errors of one event (corruption, a too-small allocator buffer) are thrown after the cursor moved on.
   */
  private step(): Event<M> | null | undefined | Promise<void> {
    if (this.stopped) return null;
    if (this.pushedBack.length > 0) return this.pushedBack.shift()!;
    if (this.startupError) {
      const e = this.startupError;
      this.startupError = undefined;
      throw e;
    }
    const parts = this.parts;
    const n = parts.length;
    let loading: Promise<void> | undefined;
    let allDone = this.until === 'end';
    for (let i = 0; i < n; i++) {
      const idx = (this.cursor + i) % n;
      const st = parts[idx];
      let rec: BackendRecord | undefined | Promise<void>;
      try {
        rec = this.nextRecord(st);
      } catch (err) {
        // A read error (e.g. corruption) is reported for this partition; skip past it so the consumer is not stuck.
        this.cursor = (idx + 1) % n;
        st.buffer = [];
        st.pos = 0;
        // retention: a removed position is not skipped one id at a time (onTrimmed decides).
        if (!isTrimmedError(err)) st.next += 1;
        throw toDiasporaError(err);
      }
      if (rec === undefined) {
        if (allDone && !(st.active && st.pos >= st.buffer.length && st.next >= st.stopAt)) allDone = false;
        continue;
      }
      if (isPromise(rec)) {
        loading ??= rec;
        allDone = false;
        continue;
      }
      this.cursor = (idx + 1) % n;
      return makeEvent<M>(this, st.index, rec, this.topic.serializer, this.dataSelector, this.dataAllocator);
    }
    if (loading) return loading;
    return allDone ? null : undefined;
  }



  /**
   * The next event (waiting for one if needed): resolves to an Event, or to `null` once the consumer is
   * finished (`until: 'end'` reached, or closed). `wait(ms)` on the future may time out and try again later:
   * nothing is lost.
   */
  pull(): Future<Event<M> | null> {
    if (this.closed) return Future.rejected(new DiasporaError(ErrorCode.CLOSED, `consumer "${this.name}" is closed`));
    if (this.waiters.length === 0) {
      if (this.yieldDue()) {
        // A caller pulling a long backlog in a loop gets its events from resolved futures (microtasks only):
        // now and then, deliver after a macrotask so timers and I/O (claim refreshes, acknowledgement writes) run.
        const f = new Future<Event<M> | null>();
        this.waiters.push(f);
        setImmediate(() => {
          this.persistAcks();
          this.serveWaiters();
        });
        return f;
      }
      try {
        const r = this.step();
        if (r === null) return Future.resolved<Event<M> | null>(null);
        if (r instanceof Event) return Future.resolved<Event<M> | null>(r);
      } catch (err) {
        return Future.rejected(err);
      }
    }
    const f = new Future<Event<M> | null>();
    this.waiters.push(f);
    this.serveWaiters();
    return f;
  }

  /** Hands available events to parked pull() futures, and waits for commits when none are available. */
  private serveWaiters(): void {
    while (this.waiters.length > 0) {
      let r: ReturnType<Consumer<M>['step']>;
      try {
        r = this.step();
      } catch (err) {
        this.waiters.shift()!.reject(err);
        continue;
      }
      if (r === undefined || isPromise(r)) {
        if (isPromise(r)) {
          r.then(
            () => this.serveWaiters(),
            (err) => {
              this.waiters.shift()?.reject(toDiasporaError(err));
              this.serveWaiters();
            },
          );
        } else this.waitForCommits();
        return;
      }
      const w = this.waiters.shift()!;
      w.resolve(r);
    }
  }

  /** Sleeps until any target partition gets a commit (or the claim of a standby partition arrives). */
  private waitForCommits(): void {
    if (this.waiting) return;
    this.waiting = true;
    const ac = new AbortController();
    this.waitAbort = ac;
    const waits = this.parts.filter((st) => st.active).map((st) =>
      st.backend.waitForAppend(st.end, 60_000, ac.signal).then((grew) => {
        if (grew) st.lastRefresh = 0;
        return grew;
      }),
    );
    if (waits.length === 0) waits.push(new Promise<boolean>((resolve) => ac.signal.addEventListener('abort', () => resolve(false), { once: true })));
    Promise.race(waits).then(
      () => {
        ac.abort();
        this.waiting = false;
        this.waitAbort = undefined;
        for (const st of this.parts) st.lastRefresh = 0;
        if (!this.stopped) this.serveWaiters();
      },
      (err) => {
        ac.abort();
        this.waiting = false;
        this.waitAbort = undefined;
        this.waiters.shift()?.reject(toDiasporaError(err));
        if (!this.stopped) this.serveWaiters();
      },
    );
  }

  /** Interrupts a wait so that state changes (a standby claim, close) are noticed. */
  private wake(): void {
    this.fireWake();
    this.wakeSignal = new Promise<void>((r) => (this.fireWake = r));
    this.waitAbort?.abort();
    if (!this.waiting && this.waiters.length > 0) this.serveWaiters();
  }

  /**
   * True about every YIELD_EVERY_MS of continuous synchronous delivery (checked every 256 events, so the clock is not
   * read per event): time to let the event loop turn.
   */
  private yieldDue(): boolean {
    if ((++this.deliveries & 255) !== 0) return false;
    const now = performance.now();
    if (now - this.sliceStart < YIELD_EVERY_MS) return false;
    this.sliceStart = now;
    return true;
  }

  /**
   * Processes events with `processor` until it throws StopEventProcessor, `maxEvents` were processed,
   * `timeoutMs` passed without any event, the consumer reached its end (`until: 'end'`) or was closed.
   * Resolves to the number of events processed. A processor error stops the loop and rejects (after the
   * processors already running finished). `processor` is a function (run on this thread, up to `concurrency` at
   * once) or a module reference `{ module, export? }`; with a pool of n >= 1 threads it must be a module reference
   * (as must the selector and allocator) and runs on the pool's worker threads (see docs/thread-pool.md).
   */
  async process(processor: EventProcessor<M> | ModuleRef, options: ProcessOptions = {}): Promise<number> {
    if (typeof processor !== 'function' && !isModuleRef(processor)) throw new TypeError('processor must be a function or a module reference { module, export? }');
    checkOptionKeys(options, PROCESS_OPTION_KEYS, 'process options');
    if (this.closed) throw new DiasporaError(ErrorCode.CLOSED, `consumer "${this.name}" is closed`);
    const timeoutMs = options.timeoutMs ?? -1;
    if (typeof timeoutMs !== 'number') throw new TypeError('timeoutMs must be a number');
    if (Number.isNaN(timeoutMs)) throw outOfRange('timeoutMs', 'a number of milliseconds (negative: never)', timeoutMs);
    const maxEvents = options.maxEvents ?? Infinity;
    if (typeof maxEvents !== 'number') throw new TypeError('maxEvents must be a non-negative integer');
    if (maxEvents !== Infinity && (!Number.isSafeInteger(maxEvents) || maxEvents < 0)) throw outOfRange('maxEvents', 'a non-negative integer or Infinity', maxEvents);
    const pool = options.threadPool ?? this.threadPool;
    if (!(pool instanceof ThreadPool)) throw new TypeError('threadPool must be a ThreadPool');
    const ordering = options.ordering ?? 'ordered';
    if (ordering !== 'ordered' && ordering !== 'unordered') throw new TypeError("ordering must be 'ordered' or 'unordered'");
    const concurrency = checkPositiveInt(options.concurrency, 'concurrency', 1);
    this.threads.check(pool, processor as EventProcessor | ModuleRef);
    if (pool.threadCount > 0 && options.concurrency !== undefined) {
      throw new DiasporaError(ErrorCode.BAD_CONFIG, 'concurrency applies to processors on this thread; a threaded pool runs one processor per thread');
    }
    this.processing++;
    let release!: () => void;
    const prevDone = this.processDone;
    this.processDone = new Promise<void>((r) => (release = r));
    try {
      await prevDone;
      if (pool.threadCount > 0) return await this.threads.run(pool, processor as ModuleRef, this.threadedHost(), { maxEvents, timeoutMs, ordering, untilEnd: this.until === 'end' });
      const fn = typeof processor === 'function' ? processor : ((await this.threads.loadProcessor(processor)) as EventProcessor<M>);
      return await this.processLoop(fn, timeoutMs, maxEvents, concurrency);
    } finally {
      this.processing--;
      release();
    }
  }

  /** The view of this consumer that the threaded loop works with (lib/threads/threaded-process.ts). */
  private threadedHost(): ConsumerWork {
    // Events read ahead for pull() (or handed back by an interrupted process()) are handed out again by the loop.
    for (const st of this.parts) {
      st.next -= st.buffer.length - st.pos;
      st.buffer = [];
      st.pos = 0;
    }
    for (const ev of this.pushedBack.splice(0)) {
      const st = this.byIndex.get(ev.partition);
      if (st) st.next = Math.min(st.next, ev.id);
    }
    const self = this;
    return {
      parts: this.parts,
      get stopped() {
        return self.stopped;
      },
      takeError: () => {
        const e = this.startupError;
        this.startupError = undefined;
        return e;
      },
      acknowledge: (partition, id) => {
        if (!this.isClosed) void this.acknowledge(partition, id).catch(() => undefined);
      },
      persistAcks: () => this.persistAcks(),
      wakeSignal: () => this.wakeSignal,
    };
  }

  private async processLoop(processor: EventProcessor<M>, timeoutMs: number, maxEvents: number, concurrency: number): Promise<number> {
    let count = 0;
    let stop = false;
    let failure: unknown;
    const inFlight = new Set<Promise<void>>();
    let wakeStop!: () => void;
    const stopped = new Promise<undefined>((r) => (wakeStop = () => r(undefined)));
    const onError = (err: unknown): void => {
      stop = true;
      wakeStop();
      if (!(err instanceof StopEventProcessor) && failure === undefined) failure = err;
    };
    let sliceStart = performance.now();
    while (!stop && count < maxEvents && !this.stopped) {
      let ev: Event<M> | null | undefined | Promise<void>;
      try {
        ev = this.step();
      } catch (err) {
        onError(err);
        break;
      }
      if (ev === null) break;
      if (ev === undefined || isPromise(ev)) {
        this.persistAcks();
        const got = await this.waitNext(timeoutMs, stopped);
        if (got === undefined || got === null) break;
        ev = got;
        sliceStart = performance.now();
      }
      count++;
      if (concurrency === 1) {
        try {
          const r = processor(ev);
          if (r && typeof (r as Promise<void>).then === 'function') await r;
        } catch (err) {
          onError(err);
        }
      } else {
        while (inFlight.size >= concurrency) await Promise.race(inFlight);
        if (stop) break;
        let job: Promise<void>;
        try {
          job = Promise.resolve(processor(ev as Event<M>)).then(
            () => undefined,
            (err) => onError(err),
          );
        } catch (err) {
          onError(err);
          continue;
        }
        inFlight.add(job);
        void job.then(() => inFlight.delete(job));
      }
      if ((count & 1023) === 0) {
        this.persistAcks();
        if (performance.now() - sliceStart > YIELD_EVERY_MS) {
          await new Promise<void>((r) => setImmediate(r));
          sliceStart = performance.now();
        }
      }
    }
    await Promise.all(inFlight);
    this.persistAcks();
    if (failure !== undefined) throw failure;
    return count;
  }

  /**
   * Waits for the next event for process(): up to `timeoutMs` (negative: forever) or until `stop` resolves.
   * A pull given up on is withdrawn; if it completed meanwhile its event is kept for the next delivery.
   */
  private async waitNext(timeoutMs: number, stop: Promise<undefined>): Promise<Event<M> | null | undefined> {
    const f = this.pull();
    const got = await Promise.race([f.wait(timeoutMs), stop]);
    if (got !== undefined) return got;
    const i = this.waiters.indexOf(f);
    if (i >= 0) {
      this.waiters.splice(i, 1);
      f.resolve(null);
      return undefined;
    }
    const late = await f.wait(0).catch(() => undefined);
    if (late) this.pushedBack.push(late);
    return undefined;
  }

  /**
   * Iteration error model: an event that cannot be delivered (its data selection fails: INVALID_VIEW,
   * BUFFER_TOO_SMALL; its metadata is undecodable: CORRUPTION) ends the loop by throwing a DiasporaError whose
   * details name its `partition` and `id`. That event is skipped and not acknowledged; iterating the consumer again
   * resumes with the next event. Iterating a closed consumer throws CLOSED; closing it during a loop ends the loop.
   */
  async *[Symbol.asyncIterator](): AsyncIterator<Event<M>> {
    if (this.closed) throw new DiasporaError(ErrorCode.CLOSED, `consumer "${this.name}" is closed`);
    try {
      yield* this.iterate();
    } finally {
      // The loop ended (the end was reached, or the caller broke out): write what it acknowledged.
      this.persistAcks();
    }
  }

  private async *iterate(): AsyncGenerator<Event<M>> {
    while (!this.stopped) {
      if (this.yieldDue()) {
        // Let timers and I/O run during a long backlog (see pull()); acknowledgements are written meanwhile.
        this.persistAcks();
        await new Promise<void>((r) => setImmediate(r));
      }
      let ev: Event<M> | null | undefined | Promise<void> = this.step();
      if (ev === undefined || isPromise(ev)) {
        this.persistAcks();
        ev = await this.pull();
      }
      if (ev === null) return;
      yield ev;
    }
  }

  // ---- acknowledgements ------------------------------------------------------------------------------------

  /** @internal called by Event.acknowledge(). */
  acknowledge(partition: number, id: number): Future<void> {
    if (this.isClosed) return Future.rejected(new DiasporaError(ErrorCode.CLOSED, `consumer "${this.name}" is closed`));
    const st = this.byIndex.get(partition);
    if (!st) return Future.rejected(new DiasporaError(ErrorCode.OUT_OF_RANGE, `consumer "${this.name}" does not read partition ${partition}`));
    if (st.ackTarget === null || id > st.ackTarget) {
      st.ackTarget = id;
      if (!this.ackDirty) {
        this.ackDirty = true;
        setImmediate(() => this.persistAcks());
      }
    }
    if (!this.ackDirty) return Future.resolved<void>(undefined);
    return (this.ackFuture ??= new Future<void>());
  }

  /** Writes every changed position (one store per partition), then resolves the pending acknowledge futures. */
  private persistAcks(): void {
    if (!this.ackDirty) return;
    this.ackDirty = false;
    const fut = this.ackFuture;
    this.ackFuture = undefined;
    const stores: Promise<void>[] = [];
    let error: unknown;
    for (const st of this.parts) {
      if (st.ackTarget !== null && (st.committed === null || st.ackTarget > st.committed)) {
        const target = st.ackTarget;
        if (!this.offsets) {
          st.committed = target; // non-durable consumer: progress in memory only
          continue;
        }
        try {
          const r = this.offsets.store(st.index, target);
          if (isPromise(r)) stores.push(r.then(() => void (st.committed = Math.max(st.committed ?? -1, target))));
          else st.committed = target;
        } catch (err) {
          error ??= err;
        }
      }
    }
    if (!fut) return;
    if (error !== undefined) fut.reject(toDiasporaError(error));
    else if (stores.length === 0) fut.resolve(undefined);
    else Promise.all(stores).then(() => fut.resolve(undefined), (e) => fut.reject(toDiasporaError(e)));
  }

  // ---- statistics ------------------------------------------------------------------------------------------

  /** Per partition: last acknowledged id, next id to deliver, end, and what is pending after the acknowledgement. */
  async lag(): Promise<PartitionLag[]> {
    if (this.closed) throw new DiasporaError(ErrorCode.CLOSED, `consumer "${this.name}" is closed`);
    const out: PartitionLag[] = [];
    for (const st of this.parts) {
      const end = await st.backend.refresh();
      const stats = await st.backend.stats();
      const committed = st.committed;
      const pendingEvents = Math.max(0, end - Math.max(stats.firstId, committed === null ? 0 : committed + 1));
      const avg = stats.events > 0 ? (stats.metadataBytes + stats.dataBytes) / stats.events : 0;
      const position = st.active ? st.next - (st.buffer.length - st.pos) : (committed ?? -1) + 1;
      out.push({
        partition: st.index,
        committed,
        position,
        endId: end,
        pendingEvents,
        pendingBytes: Math.round(pendingEvents * avg),
        // retention: what was skipped, plus what lies below the first id at the position now (not yet handled).
        lostEvents: st.lost + (st.active || committed !== null ? Math.max(0, stats.firstId - position) : 0),
      });
    }
    return out;
  }

  /**
   * Stops delivery (pending pulls resolve to null), waits up to `graceMs` for running processors, persists
   * acknowledgements, releases claims and files. Idempotent.
   */
  close(graceMs = 10_000): Promise<void> {
    return (this.closing ??= this.doClose(graceMs));
  }

  private async doClose(graceMs: number): Promise<void> {
    this.stopped = true;
    this.startAbort.abort();
    this.waitAbort?.abort();
    for (const w of this.waiters.splice(0)) w.resolve(null);
    this.wake();
    if (this.processing > 0) {
      await Promise.race([this.processDone, new Promise<void>((r) => setTimeout(r, graceMs).unref())]);
    }
    // Acknowledgements made by the processors that just finished are written before the claims go.
    this.persistAcks();
    this.isClosed = true;
    const errors: unknown[] = [];
    // The workers' state for this consumer goes (the pool's threads too when no other consumer uses them).
    try {
      await this.threads.close();
    } catch (err) {
      errors.push(err);
    }
    for (const st of this.parts) {
      // Records read ahead hold slices of the mappings: drop them, so that a closed consumer still referenced by
      // the application does not keep a batch's worth of segment mappings alive.
      st.buffer = [];
      st.pos = 0;
      if (st.claim) {
        try {
          await st.claim.release();
        } catch (err) {
          errors.push(err);
        }
        st.claim = undefined;
      }
    }
    try {
      await this.offsets?.close();
    } catch (err) {
      errors.push(err);
    }
    if (errors.length > 0) throw toDiasporaError(errors[0]);
  }
}
