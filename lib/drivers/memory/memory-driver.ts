// The "memory" driver: topics live in this process's memory (per driver instance). Same semantics as the files
// driver except durability; meant for tests and examples. Data is copied on append.

import { EventEmitter } from 'node:events';
import type {
  BackendAppendEvent,
  BackendPartitionStats,
  BackendRecord,
  ClaimHandle,
  ConsumerPosition,
  DriverBackend,
  OffsetsBackend,
  PartitionBackend,
  TopicBackend,
} from '../../backend.js';
import { BatchSizes, checkBatch } from '../../../storage/partition-core/batch-check.js';
import { DiasporaError, ErrorCode, toDiasporaError } from '../../errors.js';
import type { JsonObject } from '../../json.js';
import { validateTopicName } from '../topic-name.js';
import { timeoutUnlessForever } from '../../timer-limit.js';

interface MemRecord extends BackendRecord {
  readonly bytes: Uint8Array;
}

class MemoryPartition implements PartitionBackend {
  readonly records: MemRecord[] = [];
  private readonly changes = new EventEmitter();
  private lastTimestamp = 0;
  private readonly sizes = new BatchSizes();

  constructor() {
    this.changes.setMaxListeners(0);
  }

  append(events: readonly BackendAppendEvent[]): number {
    // The files engine's checks, so that both drivers refuse the same batches with the same errors.
    try {
      checkBatch(events, this.sizes);
    } catch (err) {
      throw toDiasporaError(err);
    }
    const first = this.records.length;
    // Every record is built (copied) before any is stored: a batch whose copy fails (a buffer detached after push)
    // stores nothing, as with the files engine.
    const built: MemRecord[] = [];
    let lastTimestamp = this.lastTimestamp;
    for (const e of events) {
      const pieces = e.data === undefined ? [] : e.data instanceof Uint8Array ? [e.data] : e.data;
      const bytes = Buffer.concat(pieces as Uint8Array[]);
      const ts = Math.max(lastTimestamp, e.timestamp ?? Date.now());
      lastTimestamp = ts;
      built.push({
        id: first + built.length,
        timestamp: ts,
        metadata: Uint8Array.from(e.metadata),
        dataSize: bytes.byteLength,
        bytes,
        data(): Uint8Array {
          return bytes;
        },
      });
    }
    for (const r of built) this.records.push(r);
    this.lastTimestamp = lastTimestamp;
    this.changes.emit('append');
    return first;
  }

  flush(): void {}

  refresh(): number {
    return this.records.length;
  }

  startId(): number {
    return 0;
  }

  readRange(from: number, max: number): BackendRecord[] {
    return this.records.slice(from, from + max);
  }

  findByTime(ms: number): number {
    let lo = 0;
    let hi = this.records.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.records[mid].timestamp < ms) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  waitForAppend(knownEnd: number, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (this.records.length > knownEnd) return Promise.resolve(true);
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const done = (v: boolean): void => {
        clearTimeout(timer);
        this.changes.off('append', onAppend);
        signal?.removeEventListener('abort', onAbort);
        resolve(v);
      };
      const onAppend = (): void => {
        if (this.records.length > knownEnd) done(true);
      };
      const onAbort = (): void => done(false);
      const timer = timeoutUnlessForever(() => done(false), Math.max(0, timeoutMs));
      timer?.unref();
      this.changes.on('append', onAppend);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  stats(): BackendPartitionStats {
    let metadataBytes = 0;
    let dataBytes = 0;
    for (const r of this.records) {
      metadataBytes += r.metadata.byteLength;
      dataBytes += r.dataSize;
    }
    const n = this.records.length;
    return {
      firstId: 0,
      endId: n,
      events: n,
      metadataBytes,
      dataBytes,
      segments: 1,
      firstTimestamp: n > 0 ? this.records[0].timestamp : null,
      lastTimestamp: n > 0 ? this.records[n - 1].timestamp : null,
    };
  }
}

class MemoryTopic {
  readonly partitions: MemoryPartition[];
  /** consumer name -> partition -> last acknowledged id */
  readonly offsets = new Map<string, Map<number, number | null>>();
  /** "name\0partition" -> release notifier for standby waiters */
  readonly claims = new Map<string, EventEmitter>();

  constructor(
    readonly name: string,
    readonly components: JsonObject,
    numPartitions: number,
  ) {
    this.partitions = Array.from({ length: numPartitions }, () => new MemoryPartition());
  }
}

class MemoryTopicBackend implements TopicBackend {
  constructor(private readonly topic: MemoryTopic) {}

  get name(): string {
    return this.topic.name;
  }
  get numPartitions(): number {
    return this.topic.partitions.length;
  }
  get components(): JsonObject {
    return this.topic.components;
  }
  get info(): JsonObject {
    return { driver: 'memory', num_partitions: this.numPartitions };
  }

  partition(i: number): PartitionBackend {
    const p = this.topic.partitions[i];
    if (!p) throw new DiasporaError(ErrorCode.OUT_OF_RANGE, `no partition ${i} in topic "${this.name}"`);
    return p;
  }

  openOffsets(consumerName: string): OffsetsBackend {
    let m = this.topic.offsets.get(consumerName);
    if (!m) this.topic.offsets.set(consumerName, (m = new Map()));
    const map = m;
    return {
      load: (p) => map.get(p) ?? null,
      store: (p, id) => void map.set(p, id),
      close: () => undefined,
    };
  }

  async claim(consumerName: string, partition: number, opts: { standby: boolean; signal?: AbortSignal }): Promise<ClaimHandle> {
    const key = `${consumerName}\0${partition}`;
    const claims = this.topic.claims;
    while (claims.has(key)) {
      if (!opts.standby) {
        throw new DiasporaError(ErrorCode.CONSUMER_BUSY, `consumer "${consumerName}" already reads partition ${partition} of topic "${this.name}"`);
      }
      const holder = claims.get(key)!;
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => {
          holder.off('released', resolve);
          reject(new DiasporaError(ErrorCode.CLOSED, 'claim wait aborted'));
        };
        if (opts.signal?.aborted) return onAbort();
        holder.once('released', () => {
          opts.signal?.removeEventListener('abort', onAbort);
          resolve();
        });
        opts.signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
    const em = new EventEmitter();
    em.setMaxListeners(0);
    claims.set(key, em);
    let released = false;
    return {
      partition,
      release: () => {
        if (released) return;
        released = true;
        // A claim taken away is no longer this holder's to give up.
        if (claims.get(key) !== em) return;
        claims.delete(key);
        em.emit('released');
      },
      onLost: (cb) => void em.once('lost', cb),
    };
  }

  /** The memory driver's takeover: the claim is dropped (its holder told at once) and free for the next claimer. */
  stealClaim(consumerName: string, partition: number): void {
    const key = `${consumerName}\0${partition}`;
    const holder = this.topic.claims.get(key);
    if (!holder) return;
    this.topic.claims.delete(key);
    holder.emit('lost');
    holder.emit('released');
  }

  listConsumers(): ConsumerPosition[] {
    return [...this.topic.offsets.entries()].map(([name, m]) => ({
      name,
      partitions: [...m.entries()].sort((a, b) => a[0] - b[0]).map(([partition, lastAcknowledged]) => ({ partition, lastAcknowledged })),
    }));
  }

  resetConsumer(consumerName: string, partition: number, lastAcked: number | null): void {
    this.resetConsumerPositions(consumerName, [[partition, lastAcked]]);
  }

  resetConsumerPositions(consumerName: string, moves: ReadonlyArray<readonly [partition: number, lastAcked: number | null]>): void {
    // Every partition checked before any is moved: all or nothing.
    for (const [partition] of moves) {
      if (this.topic.claims.has(`${consumerName}\0${partition}`)) {
        throw new DiasporaError(ErrorCode.CONSUMER_BUSY, `consumer "${consumerName}" is running on partition ${partition}`, { partition });
      }
    }
    let m = this.topic.offsets.get(consumerName);
    if (!m) this.topic.offsets.set(consumerName, (m = new Map()));
    for (const [partition, lastAcked] of moves) m.set(partition, lastAcked);
  }

  /** Forgets a consumer that is not running (CONSUMER_BUSY while it holds a partition); false when it had no position. */
  deleteConsumer(consumerName: string): boolean {
    for (let partition = 0; partition < this.numPartitions; partition++) {
      if (this.topic.claims.has(`${consumerName}\0${partition}`)) {
        throw new DiasporaError(ErrorCode.CONSUMER_BUSY, `consumer "${consumerName}" of topic "${this.name}" is live (it holds partition ${partition}): close it before deleting it`, { partition });
      }
    }
    return this.topic.offsets.delete(consumerName);
  }

  close(): void {}
}

export class MemoryDriverBackend implements DriverBackend {
  private readonly topics = new Map<string, MemoryTopic>();

  constructor(options: JsonObject) {
    const unknown = Object.keys(options);
    if (unknown.length > 0) throw new DiasporaError(ErrorCode.BAD_CONFIG, `memory driver takes no options (got ${unknown.join(', ')})`);
  }

  createTopic(name: string, numPartitions: number, components: JsonObject, retention: unknown = null): void {
    validateTopicName(name);
    // retention: in-memory topics live as long as the process; retention is not implemented (docs/retention.md).
    if (retention !== null) throw new DiasporaError(ErrorCode.UNSUPPORTED, 'the memory driver has no retention (retention_* topic options)');
    if (this.topics.has(name)) throw new DiasporaError(ErrorCode.TOPIC_EXISTS, `Topic already exists: ${name}`);
    this.topics.set(name, new MemoryTopic(name, components, numPartitions));
  }

  openTopic(name: string): TopicBackend {
    const t = this.topics.get(name);
    if (!t) throw new DiasporaError(ErrorCode.TOPIC_NOT_FOUND, `Could not find topic "${name}"`);
    return new MemoryTopicBackend(t);
  }

  topicExists(name: string): boolean {
    return this.topics.has(name);
  }

  listTopics(): Map<string, JsonObject> {
    const out = new Map<string, JsonObject>();
    for (const [name, t] of this.topics) {
      out.set(name, { name, num_partitions: t.partitions.length, ...t.components });
    }
    return out;
  }

  deleteTopic(name: string): void {
    if (!this.topics.delete(name)) throw new DiasporaError(ErrorCode.TOPIC_NOT_FOUND, `Could not find topic "${name}"`);
  }

  close(): void {}
}
