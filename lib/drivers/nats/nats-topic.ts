// A topic on NATS: its partitions' streams, its consumers' offsets (KV, one key per consumer and partition,
// holding the last acknowledged id: cumulative like the files driver) and claims (KV with a TTL).
// Offsets live in KV rather than in JetStream durable consumers because the API acknowledges cumulatively and
// can reset a consumer to any id; a KV value is exactly that position, with no redelivery state to fight.

import type { KV } from '@nats-io/kv';
import type { ClaimHandle, ConsumerPosition, OffsetsBackend, PartitionBackend, TopicBackend } from '../../backend.js';
import { DiasporaError, ErrorCode } from '../../errors.js';
import type { JsonObject } from '../../json.js';
import type { NatsClaims } from './nats-claims.js';
import type { NatsContext } from './nats-context.js';
import { withRetry } from './nats-errors.js';
import { listPositions } from './nats-list-positions.js';
import { encodeOffset, kvLocation, parseOffsetValue } from './nats-offset-record.js';
import { NatsPartition } from './nats-partition.js';
import { deletePositions, resetPositions, settlePartition, type ResetScope } from './nats-reset.js';

/** What the topics bucket stores per topic. */
export interface NatsTopicRecord {
  name: string;
  num_partitions: number;
  components: JsonObject;
  replicas: number;
  created: string;
}

export class NatsTopic implements TopicBackend {
  private readonly partitions: NatsPartition[] = [];
  /** Offset writes not yet confirmed, per consumer name: a claim is released only after them. */
  private readonly pendingStores = new Map<string, Set<Promise<void>>>();

  constructor(
    private readonly ctx: NatsContext,
    private readonly record: NatsTopicRecord,
    private readonly offsetsKv: KV,
    private readonly claims: NatsClaims,
  ) {}

  get name(): string {
    return this.record.name;
  }
  get numPartitions(): number {
    return this.record.num_partitions;
  }
  get components(): JsonObject {
    return this.record.components;
  }
  get info(): JsonObject {
    return {
      driver: 'nats',
      servers: this.ctx.options.servers,
      num_partitions: this.numPartitions,
      replicas: this.record.replicas,
      streams: `${this.ctx.names.stream(this.name, 0).replace(/_0$/, '')}_<partition>`,
    };
  }

  partition(i: number): PartitionBackend {
    if (!Number.isInteger(i) || i < 0 || i >= this.numPartitions) {
      throw new DiasporaError(ErrorCode.OUT_OF_RANGE, `topic "${this.name}" has no partition ${i}`);
    }
    const names = this.ctx.names;
    return (this.partitions[i] ??= new NatsPartition(this.ctx, names.stream(this.name, i), names.subject(this.name, i), `topic "${this.name}" partition ${i}`));
  }

  private retry<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return withRetry(this.ctx.options.retryMs, `topic "${this.name}": ${what}`, fn);
  }

  /** What the reset and the listing of positions work on (nats-reset.ts, nats-list-positions.ts). */
  private get scope(): ResetScope {
    const names = this.ctx.names;
    return {
      topic: this.name,
      numPartitions: this.numPartitions,
      kv: this.offsetsKv,
      bucket: names.offsetsBucket,
      claims: this.claims,
      positionKey: (c, p) => names.consumerKey(this.name, c, p),
      resetKey: (c) => names.resetKey(this.name, c),
      retry: (what, fn) => this.retry(what, fn),
    };
  }

  openOffsets(consumerName: string): OffsetsBackend {
    let pending = this.pendingStores.get(consumerName);
    if (!pending) this.pendingStores.set(consumerName, (pending = new Set()));
    const set = pending;
    const key = (p: number): string => this.ctx.names.consumerKey(this.name, consumerName, p);
    return {
      // Called holding the partition's claim: a reset a crash interrupted is finished first (nats-reset.ts).
      load: async (p) => {
        await settlePartition(this.scope, consumerName, p);
        const e = await this.retry(`load offset of "${consumerName}"`, () => this.offsetsKv.get(key(p)));
        if (!e || e.operation !== 'PUT') return null;
        return parseOffsetValue(e.string(), consumerName, p, this.name, kvLocation(this.ctx.names.offsetsBucket, key(p)));
      },
      store: (p, id) => {
        const w = this.retry(`store offset of "${consumerName}"`, () => this.offsetsKv.put(key(p), encodeOffset(consumerName, p, id))).then(() => undefined);
        set.add(w);
        void w.then(
          () => set.delete(w),
          () => set.delete(w),
        );
        return w;
      },
      close: async () => {
        await Promise.allSettled([...set]);
      },
    };
  }

  async claim(consumerName: string, partition: number, opts: { standby: boolean; signal?: AbortSignal }): Promise<ClaimHandle> {
    const key = this.ctx.names.consumerKey(this.name, consumerName, partition);
    const handle = await this.claims.acquire(key, `partition ${partition} of topic "${this.name}" for consumer "${consumerName}"`, {
      ...opts,
      // Acknowledgements written before the release are visible to whoever claims next.
      beforeRelease: async () => void (await Promise.allSettled([...(this.pendingStores.get(consumerName) ?? [])])),
    });
    return { partition, release: () => handle.release(), onLost: (cb) => handle.onLost?.(cb) };
  }

  /** The nats driver's takeover (an expired claim taken by another client): the claim key is deleted. */
  async stealClaim(consumerName: string, partition: number): Promise<void> {
    const key = this.ctx.names.consumerKey(this.name, consumerName, partition);
    await this.retry('steal claim', () => this.claims.steal(key));
  }

  /** Every consumer's positions; one that cannot be read is listed as `damaged`, not thrown (nats-list-positions.ts). */
  async listConsumers(): Promise<ConsumerPosition[]> {
    return listPositions(this.scope, this.ctx.names.consumerKeysOf(this.name));
  }

  resetConsumer(consumerName: string, partition: number, lastAcked: number | null): Promise<void> {
    return this.resetConsumerPositions(consumerName, [[partition, lastAcked]]);
  }

  /** All or nothing (nats-reset.ts): checks every claim before writing, undoes a failed write, finishes after a crash. */
  resetConsumerPositions(consumerName: string, moves: ReadonlyArray<readonly [partition: number, lastAcked: number | null]>): Promise<void> {
    return resetPositions(this.scope, consumerName, moves);
  }

  /** Deletes a stopped consumer's positions (CONSUMER_BUSY while it runs); false when it had none (nats-reset.ts). */
  deleteConsumer(consumerName: string): Promise<boolean> {
    return deletePositions(this.scope, consumerName);
  }

  close(): void {}
}
