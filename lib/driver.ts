// Driver: the entry point. `await Driver.create('files', { root_path })` picks an engine by name; the driver
// creates, opens, lists and deletes topics and makes thread pools.

import type { ConsumerPosition, DriverBackend } from './backend.js';
import './builtin-drivers.js';
import type { PartitionSelector } from './components/partition-selector.js';
import {
  builtinConfigKeys,
  partitionSelectorFromMetadata,
  serializerFromMetadata,
  validatorFromMetadata,
  type ComponentKind,
} from './components/registry.js';
import type { Serializer } from './components/serializer.js';
import type { Validator } from './components/validator.js';
import { Lifecycle, type LifecycleStatus } from './lifecycle.js';
import { closeAll } from './close-all.js';
import { resolveDriverFactory } from './driver-registry.js';
import { DiasporaError, ErrorCode, toDiasporaError } from './errors.js';
import { checkExactJson, isWellFormedString } from './json-check.js';
import { isJsonObject, type JsonObject, type JsonValue } from './json.js';
import { checkOptionKeys } from './option-keys.js';
import { MAX_PARTITIONS } from '../storage/topic-core/topic-checks.js';
import { ThreadPool, defaultThreadPool, makeThreadPool } from './thread-pool.js';
import { TopicHandle, type ResetTarget } from './topic.js';
import { RETENTION_OPTION_KEYS, checkTopicRetention, retentionPolicyOf, type TopicRetention } from './topic-retention.js';

/** A component given to createTopic: an instance, its config (`{ type, ... }`) or just its type name. */
export type ComponentSpec<T> = T | JsonObject | string;

export interface CreateTopicSpec {
  /** Topic options; `num_partitions` (default 1) is the one every driver understands. */
  options?: JsonObject & { num_partitions?: number } & TopicRetention;
  validator?: ComponentSpec<Validator>;
  partitionSelector?: ComponentSpec<PartitionSelector>;
  serializer?: ComponentSpec<Serializer>;
}

/** The keys of createTopic's spec, and of its `options` (the only topic option every driver reads). */
export const CREATE_TOPIC_KEYS = ['options', 'validator', 'partitionSelector', 'serializer'] as const;
export const TOPIC_OPTION_KEYS = ['num_partitions', ...RETENTION_OPTION_KEYS] as const;

async function componentConfig<T extends { metadata(): JsonObject }>(
  spec: ComponentSpec<T> | undefined,
  what: string,
  kind: ComponentKind,
  build: (config: JsonValue | undefined) => Promise<T>,
): Promise<JsonObject> {
  if (spec === undefined) return (await build(undefined)).metadata();
  if (typeof spec === 'string') return (await build({ type: spec })).metadata();
  if (typeof spec === 'object' && spec !== null && typeof (spec as { metadata?: unknown }).metadata === 'function') {
    return instanceConfig(spec as T, what, build);
  }
  if (isJsonObject(spec)) {
    const type = spec.type ?? 'default';
    const keys = typeof type === 'string' ? builtinConfigKeys(kind, type) : undefined;
    if (keys !== undefined) checkOptionKeys(spec, keys, `the config of ${what} "${type}"`);
    return (await build(spec)).metadata(); // validates the config now, not at open time
  }
  throw new TypeError(`${what} must be a component instance, a config object or a type name`);
}

/**
 * The config a component instance gives createTopic: what its metadata() returns, as stored (JSON) and rebuilt now
 * exactly as openTopic will, so that no topic is created that could never open. The instance itself is not kept:
 * every openTopic builds the component from that config, so an instance whose config builds an object of another
 * kind (its own methods would never run, e.g. metadata() saying {type: 'default'}) is refused too. BAD_CONFIG.
 */
async function instanceConfig<T extends object & { metadata(): JsonObject }>(
  instance: T,
  what: string,
  build: (config: JsonValue | undefined) => Promise<T>,
): Promise<JsonObject> {
  const refuse = (reason: string, cause?: unknown): DiasporaError =>
    new DiasporaError(ErrorCode.BAD_CONFIG, `the ${what} instance given to createTopic: ${reason}`, { cause });
  const message = (err: unknown): string => (err as Error)?.message ?? String(err);
  let config: unknown;
  try {
    config = instance.metadata();
  } catch (err) {
    throw refuse(`its metadata() threw: ${message(err)}`, err);
  }
  let stored: JsonValue;
  try {
    checkExactJson(config, 'metadata()');
    stored = JSON.parse(JSON.stringify(config)) as JsonValue; // a cycle throws here
  } catch (err) {
    throw refuse(message(err), err);
  }
  let rebuilt: T;
  try {
    rebuilt = await build(stored);
  } catch (err) {
    if (err instanceof TypeError) throw err; // a registered factory's own mistake
    throw refuse(`openTopic could not rebuild it from its metadata(): ${message(err)}`, err);
  }
  if (Object.getPrototypeOf(rebuilt) !== Object.getPrototypeOf(instance)) {
    const kind = (o: object): string => Object.getPrototypeOf(o)?.constructor?.name || 'a plain object';
    throw refuse(
      `it is ${kind(instance)}, but its metadata() ${JSON.stringify(stored)} builds ${kind(rebuilt)}, which the topic ` +
        'would run instead (register a factory that makes this instance, and name it in metadata())',
    );
  }
  return stored as JsonObject;
}

export class Driver {
  /** close() began: new calls are refused at once (children are still being closed). */
  private readonly lifecycle = new Lifecycle(() => `driver "${this.type}"`);
  /** Topic handles not closed yet (each leaves once closed: a long-lived driver keeps no closed one). */
  private readonly topics = new Set<TopicHandle>();

  private constructor(
    readonly type: string,
    readonly options: JsonObject,
    private readonly backend: DriverBackend,
  ) {}

  /** Creates a driver by name ("files", "memory", or "name:module" to import a plugin). */
  static async create(type: string, options: JsonObject = {}): Promise<Driver> {
    if (!isJsonObject(options)) throw new TypeError('driver options must be an object');
    const factory = await resolveDriverFactory(type);
    try {
      const d = new Driver(type, options, await factory(options));
      d.lifecycle.to('open');
      return d;
    } catch (err) {
      throw toDiasporaError(err);
    }
  }

  /** 'open' from create() on; 'closing' once close() began; 'closed' when it ended. */
  get status(): LifecycleStatus {
    return this.lifecycle.status;
  }

  get closed(): boolean {
    return this.lifecycle.isClosed;
  }

  private checkOpen(): void {
    this.lifecycle.check();
  }

  private static checkName(name: unknown): asserts name is string {
    if (typeof name !== 'string') throw new TypeError('topic name must be a string');
    // Stored as UTF-8, a lone surrogate would become U+FFFD: the topic would exist under another name.
    if (!isWellFormedString(name)) throw new DiasporaError(ErrorCode.BAD_NAME, 'topic name is not well-formed Unicode (lone surrogate)', { name });
  }

  /** Creates a topic; TOPIC_EXISTS if it exists, BAD_NAME for an unusable name, BAD_CONFIG for bad options. */
  async createTopic(name: string, spec: CreateTopicSpec = {}): Promise<void> {
    this.checkOpen();
    Driver.checkName(name);
    checkOptionKeys(spec, CREATE_TOPIC_KEYS, 'the createTopic spec');
    // Absent means the defaults; null is not an options object (TypeError, as for every options argument).
    const options = spec.options === undefined ? {} : spec.options;
    checkOptionKeys(options, TOPIC_OPTION_KEYS, 'topic options');
    const n = options.num_partitions ?? 1;
    // Topic options are configuration (often read from a file): any bad value, of any type, is BAD_CONFIG.
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_PARTITIONS) {
      throw new DiasporaError(ErrorCode.BAD_CONFIG, `num_partitions must be an integer from 1 to ${MAX_PARTITIONS}, got ${JSON.stringify(n)}`);
    }
    const retention = retentionPolicyOf(options);
    const components: JsonObject = {
      validator: await componentConfig(spec.validator, 'validator', 'validator', validatorFromMetadata),
      serializer: await componentConfig(spec.serializer, 'serializer', 'serializer', serializerFromMetadata),
      partitionSelector: await componentConfig(spec.partitionSelector, 'partitionSelector', 'partition-selector', partitionSelectorFromMetadata),
    };
    try {
      await this.backend.createTopic(name, n, components, retention);
    } catch (err) {
      throw toDiasporaError(err);
    }
  }

  /** @internal a topic handle of this driver finished closing. */
  topicClosed(topic: TopicHandle): void {
    this.topics.delete(topic);
  }

  /** Opens a topic (rebuilding its components from their persisted configs); TOPIC_NOT_FOUND if missing. */
  async openTopic(name: string): Promise<TopicHandle> {
    this.checkOpen();
    Driver.checkName(name);
    try {
      const t = await TopicHandle.open(this, await this.backend.openTopic(name));
      if (this.lifecycle.ending) {
        // The driver began closing while the topic opened: it would never be closed by it.
        await t.close();
        throw this.lifecycle.closedError();
      }
      this.topics.add(t);
      return t;
    } catch (err) {
      throw toDiasporaError(err);
    }
  }

  async topicExists(name: string): Promise<boolean> {
    this.checkOpen();
    Driver.checkName(name);
    return this.backend.topicExists(name);
  }

  /** Topic name -> description (partition count, components, location). */
  async listTopics(): Promise<Map<string, JsonObject>> {
    this.checkOpen();
    return this.backend.listTopics();
  }

  /** Deletes a topic and its data. Consumers reading it keep their mapped slices valid. */
  async deleteTopic(name: string): Promise<void> {
    this.checkOpen();
    Driver.checkName(name);
    try {
      await this.backend.deleteTopic(name);
    } catch (err) {
      throw toDiasporaError(err);
    }
  }

  /**
   * Copies topic `name` into `newName` in another on-disk format (files driver: 'native' or 'reference', the
   * C++/Python reference layout). Same partitions, ids, metadata and data. UNSUPPORTED on other drivers.
   */
  async convertTopic(name: string, newName: string, format: string): Promise<void> {
    this.checkOpen();
    Driver.checkName(name);
    Driver.checkName(newName);
    if (typeof format !== 'string') throw new TypeError('format must be a string');
    if (!this.backend.convertTopic) throw new DiasporaError(ErrorCode.UNSUPPORTED, `driver "${this.type}" cannot convert topics`);
    try {
      await this.backend.convertTopic(name, newName, format);
    } catch (err) {
      throw toDiasporaError(err);
    }
  }

  async listConsumers(topic: string): Promise<ConsumerPosition[]> {
    const t = await this.openTopic(topic);
    try {
      return await t.listConsumers();
    } finally {
      await t.close();
      this.topics.delete(t);
    }
  }

  async resetConsumer(topic: string, consumer: string, to: ResetTarget, partitions?: readonly number[]): Promise<void> {
    const t = await this.openTopic(topic);
    try {
      await t.resetConsumer(consumer, to, partitions);
    } finally {
      await t.close();
      this.topics.delete(t);
    }
  }

  /**
   * Replaces topic `name`'s retention (`{}` removes it) without opening the topic. This is how a policy damaged by
   * hand in topic.json is repaired: openTopic refuses such a topic (`CORRUPTION` saying what is wrong), this call
   * does not. Resolves to what was wrong with the policy it replaced, or null when that one was valid or absent.
   * A bad `retention` is `BAD_CONFIG` and nothing is written; `UNSUPPORTED` where `topic.setRetention` is.
   */
  async setTopicRetention(name: string, retention: TopicRetention): Promise<string | null> {
    this.checkOpen();
    Driver.checkName(name);
    const policy = checkTopicRetention(retention);
    if (this.backend.setTopicRetention === undefined) {
      const t = await this.openTopic(name);
      try {
        await t.setRetention(retention);
        return null;
      } finally {
        await t.close();
        this.topics.delete(t);
      }
    }
    try {
      return await this.backend.setTopicRetention(name, policy);
    } catch (err) {
      throw toDiasporaError(err);
    }
  }

  makeThreadPool(count: number): ThreadPool {
    this.checkOpen();
    return makeThreadPool(count);
  }

  defaultThreadPool(): ThreadPool {
    this.checkOpen();
    return defaultThreadPool();
  }

  /** Closes every topic opened from this driver (flushing producers, closing consumers), then the engine. */
  async close(): Promise<void> {
    if (this.lifecycle.isClosed) return;
    this.lifecycle.to('closing');
    await closeAll(this.topics, () => this.backend.close(), () => this.lifecycle.to('closed'));
  }
}
