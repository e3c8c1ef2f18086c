// The "nats" driver: topics live in a NATS JetStream server or cluster. One stream per partition
// (`<prefix>_<topic>_<p>`, subject `<prefix>.<topic>.<p>`), event id = stream sequence - 1; topic configs in the
// KV bucket `<prefix>_topics` (any client can open any topic), consumer offsets in `<prefix>_offsets`, claims in
// `<prefix>_claims`. All API logic stays in lib/; this is only the engine side (see nats-partition.ts).

import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { jetstream, jetstreamManager, DiscardPolicy, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { DriverBackend, TopicBackend } from '../../backend.js';
import { DiasporaError, ErrorCode } from '../../errors.js';
import { isJsonObject, type JsonObject } from '../../json.js';
import { validateTopicName } from '../topic-name.js';
import { NatsClaims } from './nats-claims.js';
import type { NatsContext } from './nats-context.js';
import { apiCode, isTransient, JsCode, natsError, withRetry } from './nats-errors.js';
import { NatsNames } from './nats-names.js';
import { readNatsDriverOptions, type NatsDriverOptions } from './nats-options.js';
import { NatsTopic, type NatsTopicRecord } from './nats-topic.js';

const NS_PER_MS = 1_000_000;
/** Streams created or deleted at once by createTopic/deleteTopic. */
const ADMIN_PARALLELISM = 8;
/** A key read (never written) to tell when a bucket just created answers requests. */
const READY_PROBE_KEY = 'diaspora-ready-probe';

async function inParallel(count: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(ADMIN_PARALLELISM, count) }, worker));
}

export class NatsDriverBackend implements DriverBackend {
  private constructor(
    private readonly ctx: NatsContext,
    private readonly topicsKv: KV,
    private readonly offsetsKv: KV,
    private readonly claimsKv: KV,
    private readonly claims: NatsClaims,
  ) {}

  get options(): NatsDriverOptions {
    return this.ctx.options;
  }

  /** Connects to the servers and opens (creating if needed) the driver's KV buckets. */
  static async connect(raw: JsonObject): Promise<NatsDriverBackend> {
    const options = readNatsDriverOptions(raw);
    let nc: NatsConnection;
    try {
      nc = await connect({
        servers: options.servers,
        name: `diaspora-stream pid ${process.pid}`,
        timeout: options.requestTimeoutMs,
        reconnectTimeWait: 250,
        maxReconnectAttempts: -1,
        user: options.user,
        pass: options.pass,
        token: options.token,
      });
    } catch (err) {
      throw new DiasporaError(ErrorCode.IO, `Could not connect to NATS servers ${options.servers.join(', ')}: ${(err as Error).message}`, { cause: err });
    }
    try {
      // Retried: a cluster that just started answers only once its JetStream meta group has a leader.
      const jsm = await withRetry(options.retryMs, 'JetStream', () =>
        jetstreamManager(nc, { timeout: options.requestTimeoutMs }).catch((err) => {
          // A server without JetStream says so at once: that is a configuration error, not worth retrying.
          if ((err as Error).name === 'JetStreamNotEnabled') throw new DiasporaError(ErrorCode.BAD_CONFIG, `JetStream is not enabled on ${options.servers.join(', ')} (start nats-server with -js)`, { cause: err });
          throw err;
        }),
      );
      const js = jetstream(nc, { timeout: options.requestTimeoutMs });
      const ctx: NatsContext = { nc, js, jsm, options, names: new NatsNames(options.prefix), maxPayload: nc.info?.max_payload ?? 1024 * 1024 };
      const kvm = new Kvm(js);
      const bucket = async (name: string, opts: { ttl?: number; storage: StorageType }): Promise<KV> => {
        const kv = await withRetry(options.retryMs, `open bucket ${name}`, async () => {
          try {
            return await kvm.create(name, { replicas: options.replicas, history: 1, ...opts });
          } catch (err) {
            // Created by another client with other settings (e.g. replicas): use it as it is.
            return kvm.open(name).catch(() => Promise.reject(err));
          }
        });
        // On a cluster that just started, a bucket just created may not be known yet to the server answering the
        // next request ("stream not found"; seen once as createTopic failing in the 3-server test under load): ready
        // once a read of it answers. Here "not found" can only mean "not yet", the bucket was just made or opened.
        await withRetry(options.retryMs, `open bucket ${name}`, () => kv.get(READY_PROBE_KEY), (err) => isTransient(err) || apiCode(err) === JsCode.STREAM_NOT_FOUND);
        return kv;
      };
      const topicsKv = await bucket(ctx.names.topicsBucket, { storage: StorageType.File });
      const offsetsKv = await bucket(ctx.names.offsetsBucket, { storage: StorageType.File });
      const claimsKv = await bucket(ctx.names.claimsBucket, { storage: StorageType.Memory, ttl: options.claimTtlMs });
      return new NatsDriverBackend(ctx, topicsKv, offsetsKv, claimsKv, new NatsClaims(claimsKv, options.claimTtlMs, options.retryMs));
    } catch (err) {
      await nc.close().catch(() => undefined);
      throw natsError(err, 'nats driver');
    }
  }

  private retry<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return withRetry(this.ctx.options.retryMs, what, fn);
  }

  private async readRecord(name: string): Promise<NatsTopicRecord | null> {
    const e = await this.retry(`read topic "${name}"`, () => this.topicsKv.get(this.ctx.names.topicKey(name)));
    if (!e || e.operation !== 'PUT') return null;
    const r = e.json<NatsTopicRecord>();
    // Long names share a hashed key: make sure the record is this topic's.
    return r.name === name ? r : null;
  }

  private async addStream(name: string, p: number, replicas: number): Promise<void> {
    const names = this.ctx.names;
    const stream = names.stream(name, p);
    await this.retry(`create stream ${stream}`, async () => {
      // A stream left over by an interrupted createTopic/deleteTopic holds nobody's events: start empty.
      await this.ctx.jsm.streams.delete(stream).catch((err) => {
        if (apiCode(err) !== JsCode.STREAM_NOT_FOUND) throw err;
      });
      await this.ctx.jsm.streams.add({
        name: stream,
        subjects: [names.subject(name, p)],
        storage: StorageType.File,
        retention: RetentionPolicy.Limits,
        discard: DiscardPolicy.Old,
        num_replicas: replicas,
        allow_direct: true,
        duplicate_window: this.ctx.options.duplicateWindowMs * NS_PER_MS,
        description: `diaspora-stream topic "${name}" partition ${p}`,
      });
    });
  }

  private async removeStreams(name: string, numPartitions: number): Promise<void> {
    await inParallel(numPartitions, (p) =>
      this.retry(`delete stream of partition ${p}`, async () => {
        await this.ctx.jsm.streams.delete(this.ctx.names.stream(name, p)).catch((err) => {
          if (apiCode(err) !== JsCode.STREAM_NOT_FOUND) throw err;
        });
      }),
    );
  }

  async createTopic(name: string, numPartitions: number, components: JsonObject, retention: unknown = null): Promise<void> {
    validateTopicName(name);
    // retention: not mapped onto JetStream limits yet (docs/retention.md).
    if (retention !== null) throw new DiasporaError(ErrorCode.UNSUPPORTED, 'the nats driver has no retention (retention_* topic options)');
    const replicas = this.ctx.options.replicas;
    const record: NatsTopicRecord = { name, num_partitions: numPartitions, components, replicas, created: new Date().toISOString() };
    const key = this.ctx.names.topicKey(name);
    // The topics bucket decides who creates a topic (create-if-absent), then the streams are made.
    await this.retry(`create topic "${name}"`, async () => {
      try {
        await this.topicsKv.create(key, JSON.stringify(record));
      } catch (err) {
        if (apiCode(err) !== JsCode.WRONG_LAST_SEQUENCE) throw err;
        const existing = await this.topicsKv.get(key);
        // Our own earlier attempt (retried after a timeout) counts as success.
        if (existing?.operation === 'PUT' && existing.string() === JSON.stringify(record)) return;
        throw new DiasporaError(ErrorCode.TOPIC_EXISTS, `Topic already exists: ${name}`);
      }
    });
    try {
      await inParallel(numPartitions, (p) => this.addStream(name, p, replicas));
    } catch (err) {
      await this.removeStreams(name, numPartitions).catch(() => undefined);
      await this.topicsKv.delete(key).catch(() => undefined);
      throw natsError(err, `create topic "${name}"`);
    }
  }

  async openTopic(name: string): Promise<TopicBackend> {
    validateTopicName(name);
    const record = await this.readRecord(name);
    if (!record) throw new DiasporaError(ErrorCode.TOPIC_NOT_FOUND, `Could not find topic "${name}"`);
    return new NatsTopic(this.ctx, record, this.offsetsKv, this.claims);
  }

  async topicExists(name: string): Promise<boolean> {
    try {
      validateTopicName(name);
    } catch {
      return false;
    }
    return (await this.readRecord(name)) !== null;
  }

  async listTopics(): Promise<Map<string, JsonObject>> {
    const keys: string[] = [];
    await this.retry('list topics', async () => {
      keys.length = 0;
      for await (const k of await this.topicsKv.keys()) keys.push(k);
    });
    const out = new Map<string, JsonObject>();
    for (const k of keys.sort()) {
      const e = await this.retry('list topics', () => this.topicsKv.get(k));
      if (!e || e.operation !== 'PUT') continue;
      const r = e.json<NatsTopicRecord>();
      const entry: JsonObject = { name: r.name, driver: 'nats', num_partitions: r.num_partitions, replicas: r.replicas, created: r.created };
      const c = r.components;
      if (isJsonObject(c.validator)) entry.validator = c.validator;
      if (isJsonObject(c.serializer)) entry.serializer = c.serializer;
      if (isJsonObject(c.partitionSelector)) entry.partition_selector = c.partitionSelector;
      out.set(r.name, entry);
    }
    return out;
  }

  async deleteTopic(name: string): Promise<void> {
    validateTopicName(name);
    const record = await this.readRecord(name);
    if (!record) throw new DiasporaError(ErrorCode.TOPIC_NOT_FOUND, `Topic does not exist: ${name}`);
    await this.removeStreams(name, record.num_partitions);
    for (const kv of [this.offsetsKv, this.claimsKv]) {
      const keys: string[] = [];
      await this.retry(`delete topic "${name}"`, async () => {
        keys.length = 0;
        for await (const k of await kv.keys(this.ctx.names.consumerKeysOf(name))) keys.push(k);
      });
      for (const k of keys) await this.retry(`delete topic "${name}"`, () => kv.purge(k));
    }
    await this.retry(`delete topic "${name}"`, () => this.topicsKv.delete(this.ctx.names.topicKey(name)));
  }

  async close(): Promise<void> {
    await this.ctx.nc.close();
  }
}
