// Consumer: delivers a topic's events to a named reader, partition by partition in id order, partitions served
// fairly (round robin). It waits for new events without spinning, runs the data selector/allocator on each
// event, records acknowledgements durably (coalesced: one offsets write per partition per turn of the event loop, not per event)
// and holds an exclusive claim on each partition it reads so two live consumers of one name never share one.
// The jobs live beside this file: partition-reader (read-ahead), delivery, acknowledgements, claims,
// process-loop, backend-calls (the engine boundary); this class ties them to one lifecycle.

import { setMaxListeners } from 'node:events';
import type { DataAllocator, DataSelector } from '../data/selection.js';
import { DiasporaError, ErrorCode } from '../errors.js';
import type { Event } from '../event.js';
import { Future } from '../future.js';
import { isWellFormedString } from '../json-check.js';
import type { JsonValue } from '../json.js';
import { Lifecycle, type LifecycleStatus } from '../lifecycle.js';
import { NO_RECORDS } from '../record-run.js';
import { checkOptionKeys } from '../option-keys.js';
import { timeoutUnlessForever } from '../timer-limit.js';
import { BatchSize, checkBatchSize, checkPositiveInt } from '../options.js';
import { ThreadPool, defaultThreadPool } from '../thread-pool.js';
import { ConsumerThreads, type ConsumerWork } from '../threads/consumer-threads.js';
import { isModuleRef, type ModuleRef } from '../threads/module-ref.js';
import { Acknowledgements } from './acknowledgements.js';
import { engineCall, engineError } from './backend-calls.js';
import { claimAll, claimInStandby, type ClaimEvents } from './claims.js';
import { Delivery, type EventMaking } from './delivery.js';
import { EventIterator } from './event-iterator.js';
import {
  CONSUMER_OPTION_KEYS,
  PROCESS_OPTION_KEYS,
  BATCH_PROCESS_OPTION_KEYS,
  type BatchProcessOptions,
  readBoolean,
  readProcessOptions,
  readStartPosition,
  readTargets,
  readUntil,
  type ConsumerOptions,
  type ConsumerTopic,
  type EventProcessor,
  type PartitionLag,
  type ProcessOptions,
  type StartPosition,
} from './options.js';
import { deliveryPosition, dropReadAhead, newPartitionState, positionPartition, type PartitionState } from './partition-reader.js';
import { processLoop } from './process-loop.js';
import { batchLoop, type BatchProcessor } from './batch-loop.js';
import { checkOnTrimmed, onPositionTrimmed } from './trimmed.js';

const ADAPTIVE_READ_BATCH = 256;

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
  private readonly from: StartPosition;
  private readonly until: 'end' | undefined;
  private readonly standby: boolean;
  private readonly lifecycle = new Lifecycle(() => `consumer "${this.name}"`);
  private readonly acks: Acknowledgements;
  private readonly delivery: Delivery<M>;
  private readonly making: EventMaking;
  private closing: Promise<void> | undefined;
  private readonly startAbort = new AbortController();
  private processing = 0;
  private processDone: Promise<void> = Promise.resolve();
  /** Work on a pool's worker threads (module references, sessions); see lib/threads/. */
  private readonly threads: ConsumerThreads;

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
    this.maxNumBatches = checkPositiveInt(options.maxNumBatches, 'maxNumBatches', 2);
    if (options.threadPool !== undefined && !(options.threadPool instanceof ThreadPool)) throw new TypeError('threadPool must be a ThreadPool');
    this.threadPool = options.threadPool ?? defaultThreadPool();
    this.threads = new ConsumerThreads(topic, sel as DataSelector | ModuleRef | undefined, alloc as DataAllocator | ModuleRef | undefined);
    this.threads.check(this.threadPool, undefined);
    this.durable = readBoolean(options.durable, 'durable', true);
    this.standby = readBoolean(options.standby, 'standby', false);
    this.from = readStartPosition(options.from);
    const trimmed = { consumerName: name, onTrimmed: checkOnTrimmed(options.onTrimmed) };
    this.until = readUntil(options.until);
    this.targets = readTargets(options.targets, topic.name, topic.backend.numPartitions);
    for (const index of this.targets) {
      const st = newPartitionState(index, topic.backend.partition(index), trimmed);
      this.parts.push(st);
      this.byIndex.set(index, st);
    }
    this.acks = new Acknowledgements(this.parts);
    this.making = { owner: this, serializer: topic.serializer, selector: this.dataSelector, allocator: this.dataAllocator };
    const readBatch = this.batchSize === BatchSize.Adaptive ? ADAPTIVE_READ_BATCH : this.batchSize;
    this.delivery = new Delivery<M>(this.parts, readBatch, this.until === 'end', this.lifecycle, this.acks, this.making);
  }

  /** @internal use `topic.consumer(name, options)`. */
  static async open<M = JsonValue>(topic: ConsumerTopic, name: string, options: ConsumerOptions<M> = {}): Promise<Consumer<M>> {
    if (typeof name !== 'string') throw new TypeError('consumer name must be a string');
    if (name.length === 0) throw new DiasporaError(ErrorCode.BAD_NAME, 'consumer name must not be empty');
    if (!isWellFormedString(name)) throw new DiasporaError(ErrorCode.BAD_NAME, 'consumer name is not well-formed Unicode (lone surrogate)');
    checkOptionKeys(options, CONSUMER_OPTION_KEYS, 'consumer options');
    const c = new Consumer<M>(topic, name, options);
    await c.start();
    c.lifecycle.to('open');
    return c;
  }

  private async start(): Promise<void> {
    const work = await this.threads.loadOnThisThread();
    // Loaded from module references: set once here, before any event is made.
    (this as { dataSelector: DataSelector | undefined }).dataSelector ??= work.selector;
    (this as { dataAllocator: DataAllocator | undefined }).dataAllocator ??= work.allocator;
    this.making.selector = this.dataSelector;
    this.making.allocator = this.dataAllocator;
    if (!this.durable) {
      await Promise.all(this.parts.map((st) => this.activate(st)));
      return;
    }
    const backend = this.topic.backend;
    this.acks.offsets = await engineCall(() => backend.openOffsets(this.name));
    const self = this;
    const events: ClaimEvents = {
      consumerName: this.name,
      get ending() {
        return self.lifecycle.ending;
      },
      activate: (st) => this.activate(st),
      wake: () => this.delivery.wake(),
      fail: (err) => this.delivery.fail(err),
    };
    if (this.standby) {
      // One abort listener per partition waiting for its claim: no MaxListenersExceededWarning above 10.
      setMaxListeners(this.parts.length + 1, this.startAbort.signal);
      claimInStandby(backend, this.parts, events, this.startAbort.signal);
      return;
    }
    try {
      await claimAll(backend, this.parts, events);
    } catch (err) {
      await this.acks.offsets?.close();
      throw err;
    }
  }

  private async activate(st: PartitionState): Promise<void> {
    const committed = this.acks.offsets ? await engineCall(() => this.acks.offsets!.load(st.index)) : null;
    const offsets = this.acks.offsets;
    const store = offsets ? (partition: number, id: number) => engineCall(() => offsets.store(partition, id)) : undefined;
    await positionPartition(st, this.name, committed, this.from, this.until === 'end', store);
  }

  /** 'opening' while its claims are taken; 'open'; 'closing' once close() began; 'closed' when it ended. */
  get status(): LifecycleStatus {
    return this.topic.closed ? 'closed' : this.lifecycle.status;
  }

  /** true once close() began (or the topic is closed): deliveries end. */
  get closed(): boolean {
    return this.lifecycle.ending || this.topic.closed;
  }

  /**
   * The next event (waiting for one if needed): resolves to an Event, or to `null` once the consumer is
   * finished (`until: 'end'` reached, or closed). `wait(ms)` on the future may time out and try again later:
   * nothing is lost.
   */
  pull(): Future<Event<M> | null> {
    if (this.closed) return Future.rejected(this.lifecycle.closedError());
    return this.delivery.pull();
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
    if (this.closed) throw this.lifecycle.closedError();
    const { pool, timeoutMs, maxEvents, ordering, concurrency } = readProcessOptions(options, this.threadPool);
    this.threads.check(pool, processor as EventProcessor | ModuleRef);
    return this.oneLoopAtATime(async () => {
      if (pool.threadCount > 0) return this.threads.run(pool, processor as ModuleRef, this.threadedHost(), { maxEvents, timeoutMs, ordering, untilEnd: this.until === 'end' });
      const fn = typeof processor === 'function' ? processor : ((await this.threads.loadProcessor(processor)) as EventProcessor<M>);
      return processLoop(this.delivery, this.acks, this.lifecycle, fn, { timeoutMs, maxEvents, concurrency });
    });
  }

  /** Runs a processing loop once the loops started before it ended (close() waits for them: processDone). */
  private async oneLoopAtATime(loop: () => Promise<number>): Promise<number> {
    this.processing++;
    let release!: () => void;
    const prevDone = this.processDone;
    this.processDone = new Promise<void>((r) => (release = r));
    try {
      await prevDone;
      return await loop();
    } finally {
      this.processing--;
      release();
    }
  }

  /**
   * Processes events a batch at a time: `processor` gets an EventBatch of consecutive events of one partition (what
   * the consumer read ahead, at most its batch size; never more than `maxEvents` in all) and answers by position
   * (`batch.metadataText(i)`, `batch.dataBytes(i)`, `batch.event(i)`), without an Event object per event; one
   * `batch.acknowledge()` covers the batch. Stops as process() does (StopEventProcessor, `maxEvents`, `timeoutMs`
   * without an event, the end, close()); resolves to the number of events in the batches processed. Runs on this
   * thread, one batch at a time (a threaded pool's threads are for process()). An event whose data cannot be
   * delivered ends its batch before it and is thrown by the next step, as process() throws it.
   */
  async processBatches(processor: BatchProcessor<M>, options: BatchProcessOptions = {}): Promise<number> {
    if (typeof processor !== 'function') throw new TypeError('processor must be a function');
    checkOptionKeys(options, BATCH_PROCESS_OPTION_KEYS, 'processBatches options');
    if (this.closed) throw this.lifecycle.closedError();
    const { timeoutMs, maxEvents } = readProcessOptions(options, this.threadPool);
    return this.oneLoopAtATime(() => batchLoop(this.delivery, this.acks, this.lifecycle, processor, { timeoutMs, maxEvents }));
  }

  /** The view of this consumer that the threaded loop works with (lib/threads/threaded-process.ts). */
  private threadedHost(): ConsumerWork {
    // Events read ahead for pull() (or handed back by an interrupted process()) are handed out again by the loop.
    for (const st of this.parts) dropReadAhead(st);
    for (const ev of this.delivery.takePushedBack()) {
      const st = this.byIndex.get(ev.partition);
      if (st) st.next = Math.min(st.next, ev.id);
    }
    const self = this;
    return {
      parts: this.parts,
      get stopped() {
        return self.lifecycle.ending;
      },
      // A partition that failed to be positioned is reported by every run, as by every pull.
      takeError: () => this.delivery.takeFailure() ?? this.parts.find((st) => st.failure !== undefined)?.failure,
      onTrimmed: (st, position, firstId) => {
        const p = st as PartitionState;
        p.lost += onPositionTrimmed(p.trimmed.onTrimmed, this.name, p.index, position, firstId);
      },
      acknowledge: (partition, id) => {
        if (!this.lifecycle.isClosed) void this.acknowledge(partition, id).catch(() => undefined);
      },
      persistAcks: () => this.acks.persist(),
      wakes: this.delivery.wakes,
    };
  }

  /**
   * Iteration error model: an event that cannot be delivered (its data selection fails: INVALID_VIEW,
   * BUFFER_TOO_SMALL; its metadata is undecodable: CORRUPTION) ends the loop by throwing a DiasporaError whose
   * details name its `partition` and `id`. That event is skipped and not acknowledged; iterating the consumer again
   * resumes with the next event. Iterating a closed consumer throws CLOSED; closing it during a loop ends the loop.
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<Event<M>> {
    return new EventIterator(
      this.delivery,
      () => (this.closed ? this.lifecycle.closedError() : null),
      () => this.acks.persist(),
      () => this.lifecycle.ending,
    );
  }

  /** @internal called by Event.acknowledge(). */
  acknowledge(partition: number, id: number): Future<void> {
    if (this.lifecycle.isClosed) return Future.rejected(this.lifecycle.closedError());
    const st = this.byIndex.get(partition);
    if (!st) return Future.rejected(new DiasporaError(ErrorCode.OUT_OF_RANGE, `consumer "${this.name}" does not read partition ${partition}`));
    if (st.claimLost) {
      return Future.rejected(
        new DiasporaError(ErrorCode.CONSUMER_BUSY, `consumer "${this.name}" lost its claim on partition ${partition}: the acknowledgement is not written`, { partition, lost: true }),
      );
    }
    return this.acks.acknowledge(st, id);
  }

  /** Per partition: last acknowledged id, next id to deliver, end, and what is pending after the acknowledgement. */
  async lag(): Promise<PartitionLag[]> {
    if (this.closed) throw this.lifecycle.closedError();
    const out: PartitionLag[] = [];
    for (const st of this.parts) {
      const end = await engineCall(() => st.backend.refresh());
      const stats = await engineCall(() => st.backend.stats());
      const committed = st.committed;
      const pendingEvents = Math.max(0, end - Math.max(stats.firstId, committed === null ? 0 : committed + 1));
      const avg = stats.events > 0 ? (stats.metadataBytes + stats.dataBytes) / stats.events : 0;
      const position = deliveryPosition(st);
      out.push({
        partition: st.index,
        committed,
        position,
        endId: end,
        pendingEvents,
        pendingBytes: Math.round(pendingEvents * avg),
        lostEvents: st.lost + this.lostBelowFirstId(st, stats.firstId),
      });
    }
    return out;
  }

  /**
   * retention: events below the first id at this consumer's position, not yet handled (skipped ones are in st.lost).
   * An active partition counts from its read position (events read ahead are still delivered); a lost claim counts
   * nothing more (the partition is another consumer's now).
   */
  private lostBelowFirstId(st: PartitionState, firstId: number): number {
    if (st.claimLost) return 0;
    if (st.active) return Math.max(0, firstId - st.next);
    return st.committed !== null ? Math.max(0, firstId - (st.committed + 1)) : 0;
  }

  /**
   * Stops delivery (pending pulls resolve to null), waits up to `graceMs` for running processors, persists
   * acknowledgements (one whose earlier write failed too: rejects if it still cannot be written), releases claims and
   * files. Idempotent. `graceMs` (default 10 s): 0 does not wait; a negative
   * value, Infinity or one above MAX_TIMER_MS (~24.8 days) waits as long as they run. TypeError for a non-number or NaN.
   */
  close(graceMs = 10_000): Promise<void> {
    if (typeof graceMs !== 'number' || Number.isNaN(graceMs)) throw new TypeError('graceMs must be a number');
    return (this.closing ??= this.doClose(graceMs));
  }

  /** Waits for the running processors, at most `graceMs` (negative or beyond a timer: without a bound). */
  private async graceForProcessors(graceMs: number): Promise<void> {
    if (graceMs < 0) return this.processDone;
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((r) => (timer = timeoutUnlessForever(r, graceMs)?.unref()));
    try {
      await (timer === undefined ? this.processDone : Promise.race([this.processDone, grace]));
    } finally {
      clearTimeout(timer);
    }
  }

  private async doClose(graceMs: number): Promise<void> {
    this.lifecycle.to('closing');
    this.startAbort.abort();
    this.delivery.stop();
    if (this.processing > 0) await this.graceForProcessors(graceMs);
    // Acknowledgements made by the processors that just finished are written before the claims go (and one whose
    // store failed is tried again: close() rejects if it still cannot be written).
    const acksWritten = this.acks.written();
    this.lifecycle.to('closed');
    const errors: unknown[] = [];
    const attempt = async (fn: () => unknown): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        errors.push(err);
      }
    };
    if (acksWritten !== undefined) await attempt(() => acksWritten);
    // The workers' state for this consumer goes (the pool's threads too when no other consumer uses them).
    await attempt(() => this.threads.close());
    for (const st of this.parts) {
      // Records read ahead hold slices of the mappings: drop them, so that a closed consumer still referenced by
      // the application does not keep a batch's worth of segment mappings alive.
      st.buffer = NO_RECORDS;
      st.pos = 0;
    }
    // Before the claims go: closing may put a position back in an offset file deleted or replaced meanwhile, which
    // only the claim's holder may do. Synchronous engines are not awaited: the claims go as soon as before (a new
    // consumer of the name, opened once process() returned, finds them free).
    try {
      const closing = this.acks.offsets?.close();
      if (closing instanceof Promise) await attempt(() => closing);
    } catch (err) {
      errors.push(err);
    }
    for (const st of this.parts) {
      const claim = st.claim;
      st.claim = undefined;
      if (claim) await attempt(() => claim.release());
    }
    this.topic.childClosed?.(this);
    if (errors.length > 0) throw engineError(errors[0]);
  }
}
