// Producer: validates, routes, serializes and batches events into a topic's partitions.
//
// Batching. A fixed `batchSize` n writes a partition's batch as soon as it holds n events, and flush() writes
// the rest. `BatchSize.Adaptive` is group commit: a write starts as soon as the previous one finished, and
// whatever accumulated meanwhile forms the next batch, so batches grow only under load and never wait for a flush.
// With a synchronous engine "meanwhile" is: until somebody waits for a pending push (`await`, Promise.all, wait():
// Future.waitedFor, seen two microtasks after the push, when an `await` of it has called then()), else until the end
// of the current turn of the event loop (setImmediate). So a loop awaiting each push gets each written a microtask
// later, and a loop that pushes from promise continuations without waiting (`for await` over readline or a consumer,
// with or without a then(callback)/catch() per push) still writes one batch per turn instead of one per event
// (measured: 135k against 590k events/s for readline lines; 100k against 205-262k for a consumer-to-producer
// pipeline acknowledging each event in a then() callback).
// A resolved push future means the event is committed: visible to consumers in every process, id final.
//
// Backpressure. With a synchronous engine (files) a full batch is written inside push(), which is the wait.
// With an asynchronous engine at most `maxNumBatches` batches are in flight; further pushes are admitted
// (validated, serialized, batched) only when one completes, so memory holds only the caller's own objects.

import { MAX_EVENT_PART_BYTES } from '../storage/partition-core/batch-check.js';
import { Lifecycle, type LifecycleStatus } from './lifecycle.js';
import type { BackendAppendEvent, TopicBackend } from './backend.js';
import { DefaultPartitionSelector, type PartitionSelector } from './components/partition-selector.js';
import { DefaultSerializer, decodeJsonMetadata, type Serializer } from './components/serializer.js';
import { DefaultValidator, type Validator } from './components/validator.js';
import { SchemaSerializer } from './components/schema-serializer.js';
import { selectPartition, serialize, validate } from './component-calls.js';
import { DataView } from './data/data-view.js';
import { DiasporaError, ErrorCode, toDiasporaError } from './errors.js';
import { Future } from './future.js';
import { CoalescedWrite } from './coalesced-write.js';
import { checkNotDetached, isDetached } from './detached.js';
import { checkExactJson } from './json-check.js';
import { parseJsonText, type JsonValue } from './json.js';
import { MetadataArena } from './metadata-arena.js';
import { checkOptionKeys } from './option-keys.js';
import { BatchSize, Ordering, checkBatchSize, checkOrdering, checkPositiveInt } from './options.js';
import { ThreadPool, defaultThreadPool } from './thread-pool.js';

/** The keys ProducerOptions accepts; any other key is BAD_CONFIG. */
export const PRODUCER_OPTION_KEYS = ['name', 'batchSize', 'maxNumBatches', 'threadPool', 'ordering'] as const;

export interface ProducerOptions {
  name?: string;
  batchSize?: BatchSize;
  /** Batches in flight per partition before push() waits (asynchronous engines). Default 2. */
  maxNumBatches?: number;
  threadPool?: ThreadPool;
  ordering?: Ordering;
}

/** Data accepted by push(): one byte array, several (stored back to back), or a DataView. */
export type PushData = Uint8Array | readonly Uint8Array[] | DataView | null | undefined;

/** What the producer needs from its topic. */
export interface ProducerTopic {
  readonly name: string;
  readonly backend: TopicBackend;
  readonly validator: Validator;
  readonly serializer: Serializer;
  readonly partitionSelector: PartitionSelector;
  readonly closed: boolean;
  /** This producer finished closing (the topic stops keeping it). */
  childClosed?(child: object): void;
}

/** Metadata accepted by push(): a JSON value, JSON text, or JSON text as UTF-8 bytes. */
export type PushMetadata = JsonValue | Uint8Array;

/** Exactly the built-in class (a subclass may override what it does with the value). */
const isExactly = (obj: object, cls: { prototype: object }): boolean => Object.getPrototypeOf(obj) === cls.prototype;

// Above this many pending events (or bytes) an adaptive batch is written at once instead of at the end of the job.
const ADAPTIVE_MAX_EVENTS = 4096;
const ADAPTIVE_MAX_BYTES = 8 << 20;

interface PendingBatch {
  events: BackendAppendEvent[];
  futures: Future<number>[];
  bytes: number;
}

interface PartitionQueue {
  pending: PendingBatch;
  inFlight: number;
  /** Serializes writes of one partition when ordering is strict (asynchronous engines). */
  tail: Promise<void>;
}

interface Admission {
  metadata: unknown;
  data: PushData;
  partition: number | undefined;
  future: Future<number>;
}

function newBatch(): PendingBatch {
  return { events: [], futures: [], bytes: 0 };
}

/** Whether an event's metadata or data bytes were detached since push() checked them. */
function eventDetached(e: BackendAppendEvent): boolean {
  if (isDetached(e.metadata)) return true;
  const data = e.data;
  if (data === undefined) return false;
  if (data instanceof Uint8Array) return isDetached(data);
  for (const piece of data) if (isDetached(piece)) return true;
  return false;
}

interface NormalizedData {
  readonly data: Uint8Array | readonly Uint8Array[] | undefined;
  readonly size: number;
}

/** An event without data (shared: nothing is allocated for it). */
const NO_DATA: NormalizedData = { data: undefined, size: 0 };

/** Checks push() data (TypeError for a wrong type or a detached buffer) and measures it. */
function normalizeData(data: PushData): NormalizedData {
  if (data === undefined || data === null) return NO_DATA;
  if (data instanceof Uint8Array) {
    checkNotDetached(data, 'data');
    return { data, size: data.byteLength };
  }
  const pieces = data instanceof DataView ? data.segments : data;
  if (Array.isArray(pieces)) {
    let size = 0;
    for (const piece of pieces) {
      if (!(piece instanceof Uint8Array)) throw new TypeError('data must be a Uint8Array, an array of Uint8Arrays or a DataView');
      checkNotDetached(piece, 'a piece of data');
      size += piece.byteLength;
    }
    return { data: pieces, size };
  }
  throw new TypeError('data must be a Uint8Array, an array of Uint8Arrays or a DataView');
}

/**
 * Refused here, for this push alone: the engine refuses a whole batch holding such an event (its last line of
 * defence), which would fail the other pushes of the batch too.
 */
function eventTooLarge(metadataBytes: number, dataBytes: number): DiasporaError {
  return new DiasporaError(
    ErrorCode.EVENT_TOO_LARGE,
    `event too large to store: metadata ${metadataBytes} bytes, data ${dataBytes} bytes (limit ${MAX_EVENT_PART_BYTES} each)`,
    { metadataBytes, dataBytes },
  );
}

/**
 * `M` is the metadata type pushed (default: any JSON value). It is a compile-time promise only: nothing checks it at
 * run time unless the topic has a validator (e.g. a schema validator).
 */
export class Producer<M = JsonValue> {
  readonly name: string;
  readonly batchSize: BatchSize;
  readonly maxNumBatches: number;
  readonly threadPool: ThreadPool;
  readonly ordering: Ordering;
  private readonly queues: PartitionQueue[];
  private readonly admissions: Admission[] = [];
  /** When an adaptive batch is written (coalesced-write.ts): at once if somebody waits for a push, else at turn end. */
  private readonly adaptive = new CoalescedWrite(() => this.writeAll(), () => this.somebodyWaits());
  /** close() began: pushes are refused while the last flush runs; later close() calls wait for the same one. */
  private readonly lifecycle = new Lifecycle(() => `producer of topic "${this.topic.name}"`);
  private closing: Promise<void> | undefined;
  /** Set when the engine answers asynchronously; then batches go through queues and admissions. */
  private asyncEngine: boolean | undefined;
  private readonly lastWrites = new Set<Promise<void>>();
  /**
   * The first batch write that failed since the last flush() or close() reported one: the next to finish rejects
   * with it, so a failure is never lost when nobody observes the push futures. Set on the failure path only.
   */
  private writeFailure: DiasporaError | TypeError | undefined;
  /**
   * Metadata given as text or bytes is stored as given (checked, not parsed): nothing on the topic reads the value
   * (default validator and partition selector) and the serializer stores JSON text (the default one).
   */
  private readonly storesTextAsGiven: boolean;
  /** The built-in serializers return new bytes per call; a custom one's output is copied (it may reuse a buffer). */
  private readonly serializerOutputIsFresh: boolean;
  /** Where text stored as given is encoded (back to back: a batch's metadata goes out in one write). */
  private readonly arena = new MetadataArena();

  constructor(
    readonly topic: ProducerTopic,
    options: ProducerOptions = {},
  ) {
    checkOptionKeys(options, PRODUCER_OPTION_KEYS, 'producer options');
    if (options.name !== undefined && typeof options.name !== 'string') throw new TypeError('producer name must be a string');
    this.name = options.name ?? '';
    this.batchSize = checkBatchSize(options.batchSize);
    this.maxNumBatches = checkPositiveInt(options.maxNumBatches, 'maxNumBatches', 2);
    if (options.threadPool !== undefined && !(options.threadPool instanceof ThreadPool)) throw new TypeError('threadPool must be a ThreadPool');
    this.threadPool = options.threadPool ?? defaultThreadPool();
    this.ordering = checkOrdering(options.ordering);
    this.storesTextAsGiven =
      isExactly(topic.validator, DefaultValidator) && isExactly(topic.partitionSelector, DefaultPartitionSelector) &&
      isExactly(topic.serializer, DefaultSerializer);
    this.serializerOutputIsFresh = isExactly(topic.serializer, DefaultSerializer) || isExactly(topic.serializer, SchemaSerializer);
    this.queues = [];
    for (let i = 0; i < topic.backend.numPartitions; i++) this.queues.push({ pending: newBatch(), inFlight: 0, tail: Promise.resolve() });
    this.lifecycle.to('open');
  }

  /** 'open' from creation; 'closing' while close() flushes; 'closed' after it (or once the topic is closed). */
  get status(): LifecycleStatus {
    return this.topic.closed ? 'closed' : this.lifecycle.status;
  }

  /** true once close() began (pushes are refused from then on). */
  get closed(): boolean {
    return this.lifecycle.ending || this.topic.closed;
  }

  /**
   * Pushes an event. `metadata` is a JSON value, or JSON text: a string, or UTF-8 bytes (a Uint8Array, copied).
   * Text is stored as given, after a syntax check, when the topic's validator, partition selector and serializer
   * are the defaults (nothing needs the value); otherwise it is parsed and the value goes through them. Invalid
   * text rejects the future with BAD_JSON and nothing is written. `data` is held by reference, not copied: keep it
   * unchanged until the returned future resolves.
   * Resolves to the event's id in its partition once it is committed.
   * Throws TypeError (nothing written) for metadata JSON cannot represent exactly: NaN, Infinity, undefined, functions,
   * symbols, lone surrogates; and for metadata bytes or data whose ArrayBuffer was detached (transferred).
   * Rejects with EVENT_TOO_LARGE (this push only) when its stored metadata or its data exceeds 1 GiB, and with
   * OUT_OF_RANGE for a `partition` the topic does not have.
   */
  push(metadata: M | string | Uint8Array, data?: PushData, partition?: number): Future<number> {
    if (this.closed) return Future.rejected(this.lifecycle.closedError());
    if (partition !== undefined && partition !== null && (!Number.isInteger(partition) || partition < 0)) {
      throw new TypeError('partition must be a non-negative integer');
    }
    if (metadata === undefined || typeof metadata === 'function' || typeof metadata === 'symbol' || typeof metadata === 'bigint') {
      throw new TypeError('metadata must be a JSON value or JSON text');
    }
    if (metadata instanceof Uint8Array) checkNotDetached(metadata, 'metadata');
    if (this.asyncEngine && this.admissions.length + this.totalInFlight() >= this.maxNumBatches * this.queues.length) {
      // Backpressure for asynchronous engines: park the call until a batch completes.
      normalizeData(data); // type errors are still reported at once
      const future = new Future<number>();
      this.admissions.push({ metadata, data, partition: partition ?? undefined, future });
      return future;
    }
    return this.admit(metadata, data, partition ?? undefined);
  }

  private totalInFlight(): number {
    let n = 0;
    for (const q of this.queues) n += q.inFlight;
    return n;
  }

  private admit(metadata: unknown, data: PushData, partition: number | undefined, future = new Future<number>()): Future<number> {
    let p: number;
    let event: BackendAppendEvent;
    let size: number;
    try {
      if (partition !== undefined && partition >= this.queues.length) {
        throw new DiasporaError(ErrorCode.OUT_OF_RANGE, `topic "${this.topic.name}" has ${this.queues.length} partitions; no partition ${partition}`, { partition });
      }
      const norm = normalizeData(data);
      let bytes: Uint8Array;
      if (this.storesTextAsGiven && (typeof metadata === 'string' || metadata instanceof Uint8Array)) {
        bytes = typeof metadata === 'string' ? this.arena.encodeJson(metadata) : this.arena.copyJson(metadata);
        p = selectPartition(this.topic.partitionSelector, null, partition);
      } else {
        if (typeof metadata !== 'string' && !(metadata instanceof Uint8Array)) checkExactJson(metadata);
        const md =
          typeof metadata === 'string' ? parseJsonText(metadata)
          : metadata instanceof Uint8Array ? decodeJsonMetadata(metadata)
          : (metadata as JsonValue);
        validate(this.topic.validator, md, norm.data);
        p = selectPartition(this.topic.partitionSelector, md, partition);
        bytes = serialize(this.topic.serializer, md);
      }
      if (!Number.isInteger(p) || p < 0 || p >= this.queues.length) {
        throw new DiasporaError(ErrorCode.GENERIC, `Invalid index returned by PartitionSelector: ${p}`);
      }
      if (bytes.byteLength > MAX_EVENT_PART_BYTES || norm.size > MAX_EVENT_PART_BYTES) throw eventTooLarge(bytes.byteLength, norm.size);
      // A custom serializer may hand out the same buffer for every event: each event keeps its own bytes.
      if (!this.serializerOutputIsFresh) bytes = new Uint8Array(bytes);
      // One object shape for every event (data may be undefined): the engine's per-event loops stay monomorphic.
      event = { metadata: bytes, data: norm.data };
      size = bytes.byteLength + norm.size;
    } catch (err) {
      if (err instanceof TypeError) throw err;
      future.reject(toDiasporaError(err));
      return future;
    }
    const q = this.queues[p];
    const batch = q.pending;
    batch.events.push(event);
    batch.futures.push(future);
    batch.bytes += size;
    if (this.batchSize === BatchSize.Adaptive) {
      if (batch.events.length >= ADAPTIVE_MAX_EVENTS || batch.bytes >= ADAPTIVE_MAX_BYTES) this.writePartition(p);
      else this.adaptive.schedule();
    } else if (batch.events.length >= this.batchSize) {
      this.writePartition(p);
    }
    return future;
  }

  private somebodyWaits(): boolean {
    for (const q of this.queues) {
      const futures = q.pending.futures;
      for (let i = futures.length - 1; i >= 0; i--) if (futures[i]!.waitedFor) return true;
    }
    return false;
  }

  private writeAll(): void {
    this.adaptive.written(); // everything pending is written now
    for (let p = 0; p < this.queues.length; p++) if (this.queues[p].pending.events.length > 0) this.writePartition(p);
  }

  /** Writes partition p's pending batch (synchronously when the engine is synchronous). */
  private writePartition(p: number): void {
    const q = this.queues[p];
    const batch = this.withoutDetached(q.pending);
    q.pending = newBatch();
    if (batch.events.length === 0) return;
    if (this.asyncEngine) {
      this.writeAsync(p, batch);
      return;
    }
    let result: number | Promise<number>;
    try {
      result = this.topic.backend.partition(p).append(batch.events);
    } catch (err) {
      const e = toDiasporaError(err);
      this.writeFailure ??= e;
      for (const f of batch.futures) f.reject(e);
      return;
    }
    if (typeof result === 'number') {
      this.asyncEngine = false;
      for (let i = 0; i < batch.futures.length; i++) batch.futures[i].resolve(result + i);
      return;
    }
    this.asyncEngine = true;
    this.trackWrite(p, batch, result);
  }

  /**
   * The batch without the events whose bytes were detached (transferred) after push(): each of those pushes rejects
   * with a TypeError (and flush() reports the first), the others are written as if it had not been pushed. Copying a
   * detached view throws, so one of them would otherwise fail the whole batch. One length check per byte array.
   */
  private withoutDetached(batch: PendingBatch): PendingBatch {
    const events = batch.events;
    let k = 0;
    while (k < events.length && !eventDetached(events[k]!)) k++;
    if (k === events.length) return batch;
    const kept = newBatch();
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      if (i >= k && eventDetached(e)) {
        const err = new TypeError('the data or metadata bytes of a push were detached (transferred) before its batch was written: keep them until its future resolves; that event is not stored');
        this.writeFailure ??= err;
        batch.futures[i]!.reject(err);
        continue;
      }
      kept.events.push(e);
      kept.futures.push(batch.futures[i]!);
    }
    kept.bytes = batch.bytes;
    return kept;
  }

  private writeAsync(p: number, batch: PendingBatch): void {
    const q = this.queues[p];
    const run = (): Promise<number> => this.threadPool.pushWork(() => this.topic.backend.partition(p).append(batch.events));
    let result: Promise<number>;
    if (this.ordering === Ordering.Strict) {
      // One append at a time per partition keeps push order.
      result = q.tail.then(run);
    } else {
      result = run();
    }
    this.trackWrite(p, batch, result);
  }

  private trackWrite(p: number, batch: PendingBatch, result: Promise<number>): void {
    const q = this.queues[p];
    q.inFlight++;
    const done = result.then(
      (first) => {
        for (let i = 0; i < batch.futures.length; i++) batch.futures[i].resolve(first + i);
      },
      (err) => {
        const e = toDiasporaError(err);
        this.writeFailure ??= e;
        for (const f of batch.futures) f.reject(e);
      },
    );
    q.tail = done;
    this.lastWrites.add(done);
    void done.then(() => {
      q.inFlight--;
      this.lastWrites.delete(done);
      this.admitParked();
    });
  }

  private admitParked(): void {
    while (this.admissions.length > 0 && this.totalInFlight() < this.maxNumBatches * this.queues.length) {
      const a = this.admissions.shift()!;
      try {
        this.admit(a.metadata, a.data, a.partition, a.future);
      } catch (err) {
        a.future.reject(err);
      }
    }
    if (this.admissions.length > 0 || this.batchSize !== BatchSize.Adaptive) return;
    this.writeAll();
  }

  /**
   * Commits everything pushed before this call and makes it durable per the driver's flush behaviour
   * (`on_flush` and `immediate` fsync; `buffered` survives a process crash, not a power loss).
   * Rejects if a batch write failed since the previous flush() (or close()) that reported one, even when nobody
   * looked at the futures of those pushes (which reject too): each failed write is reported by the next flush()
   * or close() to finish, once. Pushes refused on their own (validation, EVENT_TOO_LARGE) are not writes.
   */
  flush(): Future<void> {
    if (this.closed) return Future.rejected(this.lifecycle.closedError());
    return Future.fromPromise(this.flushAll());
  }

  private async flushAll(): Promise<void> {
    // Parked pushes first, then every pending batch, then wait for the writes and sync the partitions.
    while (this.admissions.length > 0) {
      this.admitParked();
      if (this.admissions.length > 0) await Promise.race(this.lastWrites);
    }
    this.writeAll();
    const failures: unknown[] = [];
    await Promise.all([...this.lastWrites]);
    for (let p = 0; p < this.queues.length; p++) {
      try {
        await this.topic.backend.partition(p).flush();
      } catch (err) {
        failures.push(err);
      }
    }
    const writeFailure = this.writeFailure;
    this.writeFailure = undefined;
    if (writeFailure !== undefined) throw writeFailure;
    if (failures.length > 0) throw toDiasporaError(failures[0]);
  }

  /** Flushes, then refuses further calls with CLOSED. Rejects as flush() does (a write failed since the last flush). */
  close(): Promise<void> {
    if (this.lifecycle.isClosed) return Promise.resolve();
    this.lifecycle.to('closing');
    return (this.closing ??= (async () => {
      try {
        if (!this.topic.closed) await this.flushAll();
      } finally {
        this.lifecycle.to('closed');
        this.topic.childClosed?.(this);
      }
    })());
  }
}
