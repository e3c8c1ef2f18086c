// TopicHandle: an opened topic — its components, producers and consumers, statistics and consumer management.

import type { BackendPartitionStats, ConsumerPosition, TopicBackend, VerifyProblem } from './backend.js';
import type { PartitionSelector } from './components/partition-selector.js';
import type { Serializer } from './components/serializer.js';
import type { Validator } from './components/validator.js';
import { partitionSelectorFromMetadata, serializerFromMetadata, validatorFromMetadata } from './components/registry.js';
import { Consumer } from './consumer/consumer.js';
import type { ConsumerOptions } from './consumer/options.js';
import { Lifecycle, type LifecycleStatus } from './lifecycle.js';
import { closeAll } from './close-all.js';
import { DiasporaError, ErrorCode } from './errors.js';
import type { JsonObject, JsonValue } from './json.js';
import { idAt, isPosition, type Position } from './positions.js';
import { Producer, type ProducerOptions } from './producer.js';
import { RecoveryLog, type RecoveryListener, type RecoveryReport } from './recovery.js';
import { checkTopicRetention, topicRetentionOf, type PartitionTrimResult, type TopicRetention } from './topic-retention.js';
import { checkOptionKeys } from './option-keys.js';

/** Options of topic.trim(). */
export interface TrimOptions {
  /** Only report what would be removed. */
  dryRun?: boolean;
}

export interface TopicStats {
  name: string;
  partitions: Array<BackendPartitionStats & { partition: number }>;
}

/** Where `resetConsumer` moves a consumer: the next event it will read. */
export type ResetTarget = Position;

export interface TopicOwner {
  readonly closed: boolean;
  /** A topic handle it opened finished closing (the owner stops keeping it). */
  topicClosed?(topic: TopicHandle): void;
}

export class TopicHandle {
  /** close() began: new calls are refused (the children are being flushed and closed). */
  private readonly lifecycle = new Lifecycle(() => `topic "${this.name}"`);
  /** Producers and consumers not closed yet (each leaves once closed: a long-lived handle keeps no closed one). */
  private readonly children = new Set<{ close(): Promise<void> }>();
  private readonly recoveryLog = new RecoveryLog();

  private constructor(
    readonly driver: TopicOwner,
    readonly backend: TopicBackend,
    readonly validator: Validator,
    readonly serializer: Serializer,
    readonly partitionSelector: PartitionSelector,
  ) {}

  /** @internal built by Driver.openTopic. */
  static async open(driver: TopicOwner, backend: TopicBackend): Promise<TopicHandle> {
    const c = backend.components;
    const [validator, serializer, selector] = await Promise.all([
      validatorFromMetadata(c.validator),
      serializerFromMetadata(c.serializer),
      partitionSelectorFromMetadata(c.partitionSelector),
    ]);
    const t = new TopicHandle(driver, backend, validator, serializer, selector);
    t.lifecycle.to('open');
    backend.setRecoveryListener?.((r) => t.recoveryLog.add({ topic: backend.name, ...r, at: Date.now() }));
    selector.setPartitions(t.partitions);
    return t;
  }

  get name(): string {
    return this.backend.name;
  }

  /** 'open' once opened; 'closing' once its close() began; 'closed' when it (or its driver's close) ended. */
  get status(): LifecycleStatus {
    return this.driver.closed ? 'closed' : this.lifecycle.status;
  }

  get closed(): boolean {
    return this.lifecycle.isClosed || this.driver.closed;
  }

  /** One entry per partition (its index). */
  get partitions(): JsonObject[] {
    return Array.from({ length: this.backend.numPartitions }, (_, index) => ({ index }));
  }

  /**
   * What crash recovery found in this topic's partitions since this handle was opened (torn tails cut when a
   * partition was opened or appended to). Always empty for drivers that recover nothing (memory, nats).
   */
  get recovery(): readonly RecoveryReport[] {
    return this.recoveryLog.reports;
  }

  /**
   * Calls `cb` for each recovery report: at once for those already found, then as they happen (synchronously,
   * inside the open, append or refresh that found them). Returns the function that stops the calls.
   */
  onRecovery(cb: RecoveryListener): () => void {
    return this.recoveryLog.listen(cb);
  }

  private checkOpen(): void {
    if (this.driver.closed) throw this.lifecycle.closedError();
    this.lifecycle.check();
  }

  /** `M` types the metadata of push() (default any JSON value); unchecked at run time unless a validator is set. */
  producer<M = JsonValue>(options: ProducerOptions = {}): Producer<M> {
    this.checkOpen();
    const p = new Producer<M>(this, options);
    this.children.add(p);
    return p;
  }

  /**
   * Creates a named consumer; fails with CONSUMER_BUSY if a live consumer of that name holds one of its partitions.
   * `M` types the events' metadata (default any JSON value); unchecked at run time unless a validator is set.
   */
  async consumer<M = JsonValue>(name: string, options: ConsumerOptions<M> = {}): Promise<Consumer<M>> {
    this.checkOpen();
    const c = await Consumer.open<M>(this, name, options);
    if (this.driver.closed || this.lifecycle.ending) {
      // The topic began closing while the consumer claimed its partitions: release them rather than leak them.
      await c.close();
      throw this.lifecycle.closedError();
    }
    this.children.add(c);
    return c;
  }

  async stats(): Promise<TopicStats> {
    this.checkOpen();
    const partitions = [];
    for (let i = 0; i < this.backend.numPartitions; i++) {
      const b = this.backend.partition(i);
      await b.refresh();
      partitions.push({ partition: i, ...(await b.stats()) });
    }
    return { name: this.name, partitions };
  }

  /**
   * Checks every stored event (index entries, checksums, bounds) and returns the problems found, each naming the
   * partition, file and byte offset. An empty list means the topic is intact.
   */
  async verify(): Promise<Array<VerifyProblem & { partition: number }>> {
    this.checkOpen();
    const out: Array<VerifyProblem & { partition: number }> = [];
    for (let i = 0; i < this.backend.numPartitions; i++) {
      const b = this.backend.partition(i);
      if (!b.verify) throw new DiasporaError(ErrorCode.UNSUPPORTED, `topic "${this.name}": this driver cannot verify its storage`);
      for (const p of await b.verify()) out.push({ partition: i, ...p });
    }
    return out;
  }

  /**
   * Consumers that acknowledged something on this topic, with their positions. A position that cannot be read (a
   * damaged offset file) is listed with `damaged` (file and message) rather than failing the whole listing.
   */
  async listConsumers(): Promise<ConsumerPosition[]> {
    this.checkOpen();
    return this.backend.listConsumers();
  }

  /**
   * Moves a consumer (not running) so that it next reads from `to`: 'earliest', 'latest', an event id or a time.
   * `partitions` defaults to all. An id (or a time) below a partition's first stored id moves it to that first id,
   * as 'earliest' does (retention removed what lay below). An id past the end of one of them is OUT_OF_RANGE, and nothing is moved: the
   * stored position cannot lie past the end (the consumer would fail with POSITION_PAST_END), and moving it to the
   * end instead would deliver events the caller meant to skip. All or nothing (files, memory and nats drivers): a partition
   * that cannot be moved (CONSUMER_BUSY: a live consumer holds it; a write that fails) leaves every position as it was.
   */
  async resetConsumer(name: string, to: ResetTarget, partitions?: readonly number[]): Promise<void> {
    this.checkOpen();
    if (typeof name !== 'string' || name.length === 0) throw new TypeError('consumer name must be a non-empty string');
    const targets = partitions ?? Array.from({ length: this.backend.numPartitions }, (_, i) => i);
    for (const p of targets) {
      if (!Number.isInteger(p) || p < 0) throw new TypeError('partitions must be non-negative integers');
      if (p >= this.backend.numPartitions) throw new DiasporaError(ErrorCode.OUT_OF_RANGE, `no partition ${p}`);
    }
    // Any non-negative integer is an id of the right type (one past every end if it is not a safe integer).
    const id = typeof to === 'number' && Number.isInteger(to) && to >= 0 ? to : undefined;
    if (id === undefined && !isPosition(to)) throw new TypeError("to must be 'earliest', 'latest', a non-negative event id or a Date");
    const moves: Array<[partition: number, next: number]> = [];
    for (const p of targets) {
      const b = this.backend.partition(p);
      const end = await b.refresh();
      if (id !== undefined && id > end) {
        throw new DiasporaError(
          ErrorCode.OUT_OF_RANGE,
          `cannot move consumer "${name}" to event ${id}: partition ${p} ends at ${end} (at most ${end}: the next event pushed)`,
          { partition: p, id, endId: end },
        );
      }
      // An id below the first stored one (removed by retention, or never there) means the first stored id, as
      // 'earliest' does: stored as it was given, the consumer would refuse to open (OUT_OF_RANGE, events trimmed).
      const start = await b.startId();
      moves.push([p, Math.max(start, id ?? Math.min(await idAt(b, to, start, end), end))]);
    }
    const positions = moves.map(([p, next]) => [p, next <= 0 ? null : next - 1] as const);
    if (this.backend.resetConsumerPositions) await this.backend.resetConsumerPositions(name, positions);
    else for (const [p, lastAcked] of positions) await this.backend.resetConsumer(name, p, lastAcked);
  }

  // ---- retention (docs/retention.md) ----------------------------------------------------------------------

  private retentionBackend<K extends 'retention' | 'setRetention' | 'trim' | 'deleteConsumer'>(k: K): NonNullable<TopicBackend[K]> {
    const fn = this.backend[k];
    if (fn === undefined) throw new DiasporaError(ErrorCode.UNSUPPORTED, `topic "${this.name}": this driver has no ${k === 'deleteConsumer' ? 'consumer deletion' : 'retention'}`);
    return fn.bind(this.backend) as NonNullable<TopicBackend[K]>;
  }

  /** The topic's retention as stored now (`{}`: events are kept forever). */
  async retention(): Promise<TopicRetention> {
    this.checkOpen();
    if (this.backend.retention === undefined) return {};
    return topicRetentionOf(await this.backend.retention());
  }

  /**
   * Replaces the topic's retention (`{}` removes it), also one damaged by hand in topic.json since this handle
   * opened (driver.setTopicRetention() repairs a topic that no longer opens). Takes effect at the next trim of any
   * process (producers, topic.trim(), `diaspora-ctl topic trim`, the forward daemon).
   */
  async setRetention(retention: TopicRetention): Promise<void> {
    this.checkOpen();
    const policy = checkTopicRetention(retention);
    await this.retentionBackend('setRetention')(policy);
  }

  /** Removes the sealed segments the retention no longer keeps, now; returns what each partition lost. */
  async trim(options: TrimOptions = {}): Promise<PartitionTrimResult[]> {
    this.checkOpen();
    checkOptionKeys(options, ['dryRun'], 'trim options');
    if (options.dryRun !== undefined && typeof options.dryRun !== 'boolean') throw new TypeError('dryRun must be a boolean');
    return this.retentionBackend('trim')({ dryRun: options.dryRun ?? false });
  }

  /**
   * Deletes a named consumer and its positions (a retention policy waiting for every consumer stops waiting for it).
   * CONSUMER_BUSY while a live consumer of that name holds a partition. Resolves false when there was none.
   */
  async deleteConsumer(name: string): Promise<boolean> {
    this.checkOpen();
    if (typeof name !== 'string') throw new TypeError('consumer name must be a string');
    if (name.length === 0) throw new DiasporaError(ErrorCode.BAD_NAME, 'consumer name must not be empty');
    return this.retentionBackend('deleteConsumer')(name);
  }

  /** @internal a producer or consumer of this handle finished closing. */
  childClosed(child: object): void {
    this.children.delete(child as { close(): Promise<void> });
  }

  /** Closes producers (flushing them) and consumers opened from this handle. */
  async close(): Promise<void> {
    if (this.lifecycle.isClosed) return;
    this.lifecycle.to('closing');
    try {
      await closeAll(this.children, () => this.backend.close(), () => this.lifecycle.to('closed'));
    } finally {
      this.driver.topicClosed?.(this);
    }
  }
}

