// The "files" driver: topics are folders of memory-mapped segment files under `root_path` (storage/).
// Topics written by the C++/Python reference files driver are recognised by their layout and opened too.

import fs from 'node:fs';
import path from 'node:path';
import type {
  BackendAppendEvent,
  BackendPartitionStats,
  BackendRecord,
  BackendRecoveryReport,
  BackendRun,
  ClaimHandle,
  ConsumerPosition,
  DriverBackend,
  OffsetsBackend,
  PartitionBackend,
  TopicBackend,
  VerifyProblem,
} from '../../backend.js';
import { DiasporaError, ErrorCode, toDiasporaError } from '../../errors.js';
import { isJsonObject, type JsonObject } from '../../json.js';
import { ConsumerClaims, claimEntryPartition, type Claim } from '../../../storage/consumer-claims.js';
import { consumerDir } from '../../../storage/consumer-name.js';
import { ConsumerOffsets } from '../../../storage/consumer-offsets.js';
import {
  createTopicStore, listTopicStores, openTopicStore, removeTopicStore, replaceTopicRetention, topicStoreExists,
} from '../../../storage/open-topic.js';
import { convertTopic } from '../../../storage/convert-topic.js';
import type { FlushBehavior, PartitionLogLike, PartitionOptions, TopicStoreLike } from '../../../storage/types.js';
import { readFilesDriverOptions, type FilesDriverOptions } from './files-options.js';
import { RecordArrayRun } from '../../record-run.js';
import { RecoveryTracker } from './recovery-tracker.js';
import { guard } from './guard.js';
import { FilesRetention } from './files-retention.js';
import type { RetentionPolicy } from '../../../storage/retention/retention-policy.js';
import type { PartitionTrimResult } from '../../../storage/retention/trim-topic.js';

/** Runs an engine call, converting its errors to DiasporaErrors. */

class FilesPartition implements PartitionBackend {
  private readonly recovery: RecoveryTracker;

  constructor(
    private readonly log: PartitionLogLike,
    onRecovery: (report: BackendRecoveryReport) => void,
    private readonly afterAppend: () => void,
  ) {
    // Opening ran recovery (a writer cut a torn tail, or a reader found one); appends and refreshes may run it again.
    this.recovery = new RecoveryTracker(log, onRecovery);
    this.recovery.check();
  }

  append(events: readonly BackendAppendEvent[]): number {
    let firstId: number | undefined;
    try {
      firstId = guard(() => this.log.append(events).firstId);
    } finally {
      this.recovery.check(firstId);
    }
    // retention: producers enforce it (rate-limited, see files-retention.ts).
    this.afterAppend();
    return firstId;
  }
  flush(): void {
    guard(() => this.log.flush());
  }
  refresh(): number {
    try {
      return guard(() => this.log.refresh());
    } finally {
      this.recovery.check();
    }
  }
  startId(): number {
    return this.log.startId;
  }
  readRange(from: number, max: number): BackendRecord[] {
    return guard(() => this.log.readRange(from, max));
  }
  readRun(from: number, max: number): BackendRun {
    return guard(() => {
      const run = this.log.readRun !== undefined ? this.log.readRun(from, max) : this.log.readRange(from, max);
      return Array.isArray(run) ? new RecordArrayRun(run) : run;
    });
  }
  findByTime(ms: number): number {
    return guard(() => this.log.findByTime(ms));
  }
  waitForAppend(knownEnd: number, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    return this.log.waitForAppend(knownEnd, timeoutMs, signal);
  }
  stats(): BackendPartitionStats {
    return guard(() => this.log.stats());
  }
  verify(): VerifyProblem[] {
    return guard(() => this.log.verify());
  }
}

/** Key of a claim in FilesTopic.heldClaims. */
function claimKey(consumerName: string, partition: number): string {
  return `${partition}\0${consumerName}`;
}

class FilesTopic implements TopicBackend {
  private readonly partitions: FilesPartition[] = [];
  private recoveryListener: ((report: BackendRecoveryReport) => void) | null = null;
  /** Reports found before a listener was set. */
  private readonly pendingRecovery: BackendRecoveryReport[] = [];
  /** The claims held through this topic handle, by consumer name and partition: offsets ask them before a relink. */
  private readonly heldClaims = new Map<string, Claim>();
  private readonly retentionOps: FilesRetention;

  constructor(
    private readonly store: TopicStoreLike,
    private readonly options: FilesDriverOptions,
  ) {
    this.retentionOps = new FilesRetention(store);
  }

  get name(): string {
    return this.store.name;
  }
  get numPartitions(): number {
    return this.store.numPartitions;
  }
  get components(): JsonObject {
    return this.store.manifest.components as JsonObject;
  }
  get info(): JsonObject {
    return { path: this.store.dir, format: this.store.manifest.format, num_partitions: this.numPartitions };
  }

  partition(i: number): PartitionBackend {
    if (!Number.isInteger(i) || i < 0 || i >= this.numPartitions) {
      throw new DiasporaError(ErrorCode.OUT_OF_RANGE, `topic "${this.name}" has no partition ${i}`);
    }
    return (this.partitions[i] ??= new FilesPartition(
      guard(() => this.store.partition(i)), (r) => this.reportRecovery(r), () => this.retentionOps.afterAppend(i),
    ));
  }

  setRecoveryListener(listener: (report: BackendRecoveryReport) => void): void {
    this.recoveryListener = listener;
    for (const r of this.pendingRecovery.splice(0)) listener(r);
  }

  private reportRecovery(report: BackendRecoveryReport): void {
    if (this.recoveryListener === null) this.pendingRecovery.push(report);
    else this.recoveryListener(report);
  }

  openOffsets(consumerName: string): OffsetsBackend {
    // Consumer files go by path under the topic's folder: never into a topic created again under its name.
    const checkTopicFolder = (): void => this.store.assertFolderUnchanged();
    const offsets = guard(() => {
      checkTopicFolder();
      try {
        // A deleted or replaced offset file gets its position back only while the claim is held (checked then).
        const holdsClaim = (p: number): boolean => this.heldClaims.get(claimKey(consumerName, p))?.confirm() === true;
        return ConsumerOffsets.open(this.store.dir, consumerName, { flushBehavior: this.options.flushBehavior, checkTopicFolder, holdsClaim });
      } catch (err) {
        checkTopicFolder(); // failed because the topic was deleted: say that
        throw err;
      }
    });
    return {
      load: (p) => guard(() => offsets.load(p)),
      store: (p, id) => guard(() => offsets.store(p, id)),
      close: () => guard(() => offsets.close()),
    };
  }

  async claim(consumerName: string, partition: number, opts: { standby: boolean; signal?: AbortSignal }): Promise<ClaimHandle> {
    try {
      guard(() => this.store.assertFolderUnchanged());
      const claim = await ConsumerClaims.acquire(this.store.dir, consumerName, partition, {
        standby: opts.standby,
        signal: opts.signal,
        staleMs: this.options.claimStaleMs,
      });
      // Taken by path: if the topic was deleted and created again meanwhile, it is a claim in the new topic.
      try {
        guard(() => this.store.assertFolderUnchanged());
      } catch (err) {
        claim.release();
        throw err;
      }
      // A claim lost because the topic was deleted (its folder with it) is no takeover by another consumer.
      const lostBecause = (): Error | undefined => {
        try {
          guard(() => this.store.assertFolderUnchanged());
          return undefined;
        } catch (err) {
          return err as Error;
        }
      };
      const key = claimKey(consumerName, partition);
      this.heldClaims.set(key, claim);
      const forget = (): void => {
        if (this.heldClaims.get(key) === claim) this.heldClaims.delete(key);
      };
      claim.onLost(forget);
      return {
        partition,
        release: () => {
          forget();
          claim.release();
        },
        onLost: (cb) => claim.onLost(() => cb(lostBecause())),
      };
    } catch (err) {
      guard(() => this.store.assertFolderUnchanged()); // failed because the topic was deleted: say that
      throw this.namedBusy(err, consumerName, partition);
    }
  }

  /**
   * The files driver's takeover of a dead holder's claim, done to a live one: its claim folder is removed. The
   * holder finds it gone at its next check (within a second) and reports the loss; the partition is free.
   */
  stealClaim(consumerName: string, partition: number): void {
    guard(() => this.store.assertFolderUnchanged());
    const dir = consumerDir(this.store.dir, consumerName);
    const entries = guard(() => (fs.existsSync(dir) ? fs.readdirSync(dir) : []));
    for (const entry of entries) {
      if (claimEntryPartition(entry) === partition) guard(() => fs.rmSync(path.join(dir, entry), { recursive: true, force: true }));
    }
  }

  /** The engine names a busy partition's topic by its folder; users know the topic by its name. */
  private namedBusy(err: unknown, consumerName: string, partition: number): unknown {
    const e = toDiasporaError(err);
    if (!(e instanceof DiasporaError) || e.code !== ErrorCode.CONSUMER_BUSY) return e;
    return new DiasporaError(
      ErrorCode.CONSUMER_BUSY,
      `partition ${partition} of topic "${this.name}" is already being consumed by a live consumer named ${JSON.stringify(consumerName)}`,
      { ...e.details, topic: this.name, path: this.store.dir, cause: err },
    );
  }

  listConsumers(): ConsumerPosition[] {
    guard(() => this.store.assertFolderUnchanged());
    return guard(() => ConsumerOffsets.list(this.store.dir)).map((c) => ({
      name: c.name,
      partitions: [
        ...[...c.partitions].map(([partition, lastAcknowledged]) => ({ partition, lastAcknowledged })),
        ...[...c.damaged].map(([partition, d]) => ({ partition, lastAcknowledged: null, damaged: { code: 'CORRUPTION' as const, ...d } })),
      ].sort((a, b) => a.partition - b.partition),
    }));
  }

  resetConsumer(consumerName: string, partition: number, lastAcked: number | null): void {
    this.resetConsumerPositions(consumerName, [[partition, lastAcked]]);
  }

  resetConsumerPositions(consumerName: string, moves: ReadonlyArray<readonly [partition: number, lastAcked: number | null]>): void {
    try {
      this.store.assertFolderUnchanged();
      ConsumerOffsets.resetMany(this.store.dir, consumerName, moves, { staleMs: this.options.claimStaleMs });
    } catch (err) {
      const p = (err as { details?: { partition?: unknown } }).details?.partition;
      throw this.namedBusy(err, consumerName, typeof p === 'number' ? p : moves[0]?.[0] ?? 0);
    }
  }

  retention(): RetentionPolicy | null {
    return this.retentionOps.retention();
  }

  setRetention(policy: RetentionPolicy | null): void {
    this.retentionOps.setRetention(policy);
  }

  trim(opts: { dryRun: boolean }): PartitionTrimResult[] {
    return this.retentionOps.trim(opts.dryRun);
  }

  deleteConsumer(consumerName: string): boolean {
    try {
      return this.retentionOps.deleteConsumer(consumerName, this.options.claimStaleMs);
    } catch (err) {
      if (!(err instanceof DiasporaError) || err.code !== ErrorCode.CONSUMER_BUSY) throw err;
      throw new DiasporaError(
        ErrorCode.CONSUMER_BUSY,
        `consumer ${JSON.stringify(consumerName)} of topic "${this.name}" is live (it holds a partition): close it before deleting it`,
        { ...err.details, topic: this.name, cause: err },
      );
    }
  }

  close(): void {
    guard(() => this.store.close());
  }
}

export class FilesDriverBackend implements DriverBackend {
  readonly options: FilesDriverOptions;
  private readonly partitionOptions: PartitionOptions;

  constructor(raw: JsonObject) {
    this.options = readFilesDriverOptions(raw);
    this.partitionOptions = {
      flushBehavior: this.options.flushBehavior,
      segmentBytes: this.options.segmentBytes,
      verifyData: this.options.verifyData,
      lockStaleMs: this.options.lockStaleMs,
    };
    try {
      fs.mkdirSync(this.options.rootPath, { recursive: true });
    } catch (err) {
      throw new DiasporaError(ErrorCode.IO, `Failed to create root directory: ${this.options.rootPath}: ${(err as Error).message}`, { cause: err });
    }
  }

  get root(): string {
    return this.options.rootPath;
  }

  createTopic(name: string, numPartitions: number, components: JsonObject, retention: RetentionPolicy | null = null): void {
    guard(() => createTopicStore(this.root, name, this.options.topicFormat, { numPartitions, components, retention }, this.partitionOptions).close());
  }

  openTopic(name: string): TopicBackend {
    return new FilesTopic(guard(() => openTopicStore(this.root, name, this.partitionOptions)), this.options);
  }

  topicExists(name: string): boolean {
    return guard(() => topicStoreExists(this.root, name));
  }

  setTopicRetention(name: string, policy: RetentionPolicy | null): string | null {
    return guard(() => replaceTopicRetention(this.root, name, policy));
  }

  listTopics(): Map<string, JsonObject> {
    const out = new Map<string, JsonObject>();
    for (const { name, format } of guard(() => listTopicStores(this.root))) {
      let entry: JsonObject = { name, path: path.join(this.root, name), format };
      try {
        const store = openTopicStore(this.root, name, this.partitionOptions);
        const c = store.manifest.components;
        entry = { ...entry, num_partitions: store.numPartitions };
        if (isJsonObject(c.validator)) entry.validator = c.validator;
        if (isJsonObject(c.serializer)) entry.serializer = c.serializer;
        if (isJsonObject(c.partitionSelector)) entry.partition_selector = c.partitionSelector;
        store.close();
      } catch (err) {
        entry.error = (err as Error).message;
      }
      out.set(name, entry);
    }
    return out;
  }

  deleteTopic(name: string): void {
    guard(() => {
      removeTopicStore(this.root, name); // TOPIC_NOT_FOUND, saying why when something else has the name
    });
  }

  convertTopic(name: string, newName: string, format: string): void {
    if (format !== 'native' && format !== 'reference') {
      throw new DiasporaError(ErrorCode.BAD_ARGUMENT, `format must be "native" or "reference", got ${JSON.stringify(format)}`);
    }
    guard(() => {
      const src = openTopicStore(this.root, name, this.partitionOptions);
      try {
        convertTopic(src, this.root, newName, format, this.partitionOptions);
      } finally {
        src.close();
      }
    });
  }

  close(): void {}
}

export type { FlushBehavior };
