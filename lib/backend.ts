// The driver SPI: what a driver's engine provides to the generic Topic/Producer/Consumer of lib/.
// Kept byte-oriented (serialized metadata, raw data) so the API logic exists once for every driver.
// Methods may answer synchronously (the files engine) or with a promise (a networked engine).

import type { PartitionStats, StoredRun, VerifyProblem } from '../storage/types.js';
import type { RetentionPolicy } from '../storage/retention/retention-policy.js';
import type { PartitionTrimResult } from '../storage/retention/trim-topic.js';
import type { DataSource } from './data/selection.js';
import type { JsonObject } from './json.js';

export type MaybePromise<T> = T | Promise<T>;

export interface BackendAppendEvent {
  metadata: Uint8Array;
  data?: Uint8Array | readonly Uint8Array[];
  timestamp?: number;
}

/** One stored event; its data part is read through DataSource's data() (zero-copy where the engine can). */
export interface BackendRecord extends DataSource {
  readonly id: number;
  readonly timestamp: number;
  readonly metadata: Uint8Array;
  /** Optional: the metadata bytes decoded as UTF-8 (throws for invalid UTF-8), without making a view of them. */
  metadataUtf8?(): string;
}

/**
 * Consecutive records of one partition answered by position `k` (0 to length - 1) without an object per record:
 * what a consumer's batches read. Each answer (and error) is the record's own; record(k) makes the record. The
 * files engine's runs are the storage's (StoredRun); other engines' records are wrapped (lib/record-run.ts).
 */
export type BackendRun = Omit<StoredRun, 'firstId' | 'record'> & { record(k: number): BackendRecord };

/** Per-partition counts (the engine's own type: first/end id, events, bytes, segments, first/last timestamp). */
export type BackendPartitionStats = PartitionStats;

export interface PartitionBackend {
  /** Commits a batch; resolves to the first id assigned (ids are dense). */
  append(events: readonly BackendAppendEvent[]): MaybePromise<number>;
  /** Makes commits durable per the driver's flush behaviour. */
  flush(): MaybePromise<void>;
  /** Re-reads and returns the committed end (one past the last id). */
  refresh(): MaybePromise<number>;
  /** First id still stored. */
  startId(): MaybePromise<number>;
  readRange(from: number, max: number): MaybePromise<BackendRecord[]>;
  /**
   * Optional, synchronous engines: readRange() as a run (it may hold fewer records than readRange would: a run can
   * stop early, but holds at least one unless `from` is the end). Consumers use it where the engine has it.
   */
  readRun?(from: number, max: number): BackendRun;
  findByTime(ms: number): MaybePromise<number>;
  /** Resolves true once the end passes `knownEnd`, false on timeout or abort. Must not spin. */
  waitForAppend(knownEnd: number, timeoutMs: number, signal?: AbortSignal): Promise<boolean>;
  stats(): MaybePromise<BackendPartitionStats>;
  /** Full integrity check (every entry and checksum); engines without one omit it. */
  verify?(): MaybePromise<VerifyProblem[]>;
}

/** One problem verify() found: the file, the byte offset and (where known) the event id. */
export type { VerifyProblem };

/** Durable positions of one named consumer. */
export interface OffsetsBackend {
  /** Last acknowledged id of a partition, or null. */
  load(partition: number): MaybePromise<number | null>;
  store(partition: number, lastAcked: number): MaybePromise<void>;
  close(): MaybePromise<void>;
}

export interface ClaimHandle {
  readonly partition: number;
  release(): MaybePromise<void>;
  /**
   * Called once if the claim is taken away (e.g. its lock folder was removed, or a NATS claim expired and was
   * taken); the consumer then stops delivering the partition and reports CONSUMER_BUSY, or `reason` when the
   * engine knows better (the topic was deleted: TOPIC_NOT_FOUND).
   */
  onLost?(cb: (reason?: Error) => void): void;
}

/** Why a consumer's position in a partition cannot be read (files: its offset file is damaged; nats: its KV value). */
export interface PositionDamage {
  code: 'CORRUPTION';
  /** The damaged file (nats: `<bucket>/<key>` of the offsets bucket). */
  file: string;
  /** What is wrong with it, and the way out (a reset rewrites it). */
  message: string;
}

export interface ConsumerPosition {
  name: string;
  /**
   * One entry per partition the consumer has a position in. `damaged` is set when that position cannot be read
   * (`lastAcknowledged` is then null: unknown, not "nothing acknowledged"; the consumer fails to open with
   * CORRUPTION until `resetConsumer` rewrites it).
   */
  partitions: Array<{ partition: number; lastAcknowledged: number | null; damaged?: PositionDamage }>;
}

/** What an engine's crash recovery found in one partition (the topic handle adds the topic name and time). */
export interface BackendRecoveryReport {
  partition: number;
  /**
   * The committed end of the partition once the torn tail is set aside: the dropped index entries would have been
   * ids `endId .. endId + droppedEntries - 1` (they were never committed, so no reader saw them).
   */
  endId: number;
  /** Index entries dropped from the tail (partial, failing their checksum, or pointing at missing bytes). */
  droppedEntries: number;
  /** Orphan metadata/data bytes (written by a writer that died before committing them). */
  droppedBytes: number;
  /**
   * true: the files were cut back to the committed end. false: found but left in place (another writer may be
   * active, or the topic was opened read-only); readers ignore it and the next writer cuts it.
   */
  cut: boolean;
  /** Why: human-readable lines naming the file and byte offset of what was dropped. */
  notes: string[];
}

export interface TopicBackend {
  readonly name: string;
  readonly numPartitions: number;
  /** Component configs persisted with the topic: { validator, serializer, partitionSelector }. */
  readonly components: JsonObject;
  /** Driver-specific description of the topic's format/location (listTopics, describe). */
  readonly info: JsonObject;
  partition(i: number): PartitionBackend;
  openOffsets(consumerName: string): MaybePromise<OffsetsBackend>;
  /** Exclusive claim of a partition by a consumer name; CONSUMER_BUSY unless `standby` (then waits). */
  claim(consumerName: string, partition: number, opts: { standby: boolean; signal?: AbortSignal }): Promise<ClaimHandle>;
  /**
   * Testing hook (the conformance suite's lost-claim check): takes the claim of `consumerName` on `partition` away
   * from its live holder, as this driver does when the holder is declared dead and another consumer of the name
   * takes over. The holder must then be told through its ClaimHandle's onLost, and the claim becomes free.
   * Engines whose claims cannot be lost omit it (the suite's check then fails, naming the missing hook).
   */
  stealClaim?(consumerName: string, partition: number): MaybePromise<void>;
  listConsumers(): MaybePromise<ConsumerPosition[]>;
  /** Sets a consumer's last acknowledged id (null = nothing acknowledged); CONSUMER_BUSY while it runs. */
  resetConsumer(consumerName: string, partition: number, lastAcked: number | null): MaybePromise<void>;
  /**
   * resetConsumer of several partitions, all or nothing: a failure (CONSUMER_BUSY on one of them, a write that
   * fails) leaves every position as it was. Engines that cannot do that omit it: the topic then moves the
   * partitions one by one with resetConsumer (a failure midway leaves the ones before it moved).
   */
  resetConsumerPositions?(consumerName: string, moves: ReadonlyArray<readonly [partition: number, lastAcked: number | null]>): MaybePromise<void>;
  /**
   * Sets the one function told, synchronously, of each crash-recovery finding of this topic's partitions (a torn
   * tail cut at open or at an append). Engines that never recover anything omit it.
   */
  setRecoveryListener?(listener: (report: BackendRecoveryReport) => void): void;
  /** Retention (engines without it omit these: the topic handle answers UNSUPPORTED). The policy as stored now. */
  retention?(): MaybePromise<RetentionPolicy | null>;
  /** Replaces the stored policy (null: keep everything). */
  setRetention?(policy: RetentionPolicy | null): MaybePromise<void>;
  /** Removes what the policy no longer keeps (dryRun: only says what). */
  trim?(opts: { dryRun: boolean }): MaybePromise<PartitionTrimResult[]>;
  /** Deletes a named consumer's positions; CONSUMER_BUSY while a live consumer of that name holds a partition. */
  deleteConsumer?(consumerName: string): MaybePromise<boolean>;
  close(): MaybePromise<void>;
}

export interface DriverBackend {
  /** `retention`: null when none was asked for; an engine without retention refuses anything else (UNSUPPORTED). */
  createTopic(name: string, numPartitions: number, components: JsonObject, retention: RetentionPolicy | null): MaybePromise<void>;
  openTopic(name: string): MaybePromise<TopicBackend>;
  topicExists(name: string): MaybePromise<boolean>;
  /** name -> driver-defined description. */
  listTopics(): MaybePromise<Map<string, JsonObject>>;
  deleteTopic(name: string): MaybePromise<void>;
  /** Copies a topic into another on-disk format (files driver: 'native' | 'reference'); optional. */
  convertTopic?(name: string, newName: string, format: string): MaybePromise<void>;
  /**
   * Replaces a topic's retention policy without opening the topic (null: none), whatever the stored one holds: the
   * repair of a policy damaged by hand. Resolves to what was wrong with the policy replaced, or null. Optional: a
   * driver without it is asked through an open topic's setRetention.
   */
  setTopicRetention?(name: string, policy: RetentionPolicy | null): MaybePromise<string | null>;
  close(): MaybePromise<void>;
}
