// The engine's contract: what storage/ offers to whoever sits above it (lib/'s files driver, tools).
// storage/ deals in bytes, ids and files only; it never imports from lib/.
import type { RetentionPolicy } from './retention/retention-policy.js';

/** How commits reach the disk, named as in the reference's `flush_behavior`. */
export type FlushBehavior = 'buffered' | 'on_flush' | 'immediate';
/** Every flush behaviour, for option checks. */
export const FLUSH_BEHAVIORS: readonly FlushBehavior[] = ['buffered', 'on_flush', 'immediate'];

/** Stable error codes of the engine; lib/ maps them 1:1 onto DiasporaError codes. */
export type StorageErrorCode =
  | 'BAD_NAME'
  | 'BAD_CONFIG'
  | 'TOPIC_EXISTS'
  | 'TOPIC_NOT_FOUND'
  | 'CORRUPTION'
  | 'EVENT_TOO_LARGE'
  | 'OUT_OF_RANGE'
  | 'LOCK_FAILED'
  | 'CONSUMER_BUSY'
  | 'CLOSED'
  | 'IO'
  | 'UNSUPPORTED';

export interface StorageErrorDetails {
  file?: string;
  offset?: number;
  cause?: unknown;
  [key: string]: unknown;
}

export class StorageError extends Error {
  readonly code: StorageErrorCode;
  readonly details: StorageErrorDetails;
  constructor(code: StorageErrorCode, message: string, details: StorageErrorDetails = {}) {
    super(message, details.cause !== undefined ? { cause: details.cause } : undefined);
    this.name = 'StorageError';
    this.code = code;
    this.details = details;
  }
}

export interface PartitionOptions {
  flushBehavior?: FlushBehavior; // default 'buffered'
  /** A segment rolls once its data+metadata would exceed this many bytes. Default and max 1 GiB. */
  segmentBytes?: number;
  /**
   * ms. The writer lock never goes stale (a dead writer's lock is taken over at once, a live one never: see
   * docs/locks.md); accepted for compatibility, and used by the reference format as the quiet time after which a
   * torn tail is considered abandoned.
   */
  lockStaleMs?: number;
  /** Verify data checksums when `StoredEvent.data()` is called (metadata and index checksums are always verified). */
  verifyData?: boolean;
}

/** One event to append. `data` may be several pieces; they are stored back to back. */
export interface AppendEvent {
  metadata: Uint8Array;
  data?: Uint8Array | readonly Uint8Array[];
  /** ms since the epoch; default Date.now() at append time. */
  timestamp?: number;
}

export interface AppendResult {
  /** id of the first appended event; the batch got firstId .. firstId+count-1 (dense). */
  firstId: number;
  count: number;
}

/** A committed event as read from the log. Byte arrays are zero-copy slices of the mapped segment files. */
export interface StoredEvent {
  readonly id: number;
  readonly timestamp: number;
  /** Serialized metadata bytes (checksum already verified). */
  readonly metadata: Uint8Array;
  /**
   * Optional (native log): the metadata decoded as UTF-8 straight from the mapping, without making a view of it;
   * invalid UTF-8 throws a TypeError. Checked against the file's size as `metadata` is.
   */
  metadataUtf8?(): string;
  readonly dataSize: number;
  /** The whole data part as a slice of the mapping (maps lazily; verifies the data checksum if so configured). */
  data(): Uint8Array;
  /** Added by storage/: the data slice without any checksum verification (native log; optional for other formats). */
  dataUnverified?(): Uint8Array;
  /**
   * Bytes [offset, offset + size) of the data part as one slice of the mapping, checked exactly as data() is
   * (the whole part's checksum when verification is on), without making a slice of the whole part first.
   * The caller keeps within the data part (0 <= offset, offset + size <= dataSize). Optional for other formats.
   */
  dataSlice?(offset: number, size: number): Uint8Array;
}

/**
 * Consecutive committed events read at once and answered by position `k` (0 to length - 1, ids firstId + k) without
 * an object per event: what a bulk reader (a consumer's batches) needs of each. Answers and errors are those of the
 * event's StoredEvent, which record(k) makes on demand.
 */
export interface StoredRun {
  readonly firstId: number;
  readonly length: number;
  /** firstId + k. */
  id(k: number): number;
  timestamp(k: number): number;
  dataSize(k: number): number;
  /** As StoredEvent.metadataUtf8(). */
  metadataUtf8(k: number): string;
  /** As StoredEvent.metadata. */
  metadataBytes(k: number): Uint8Array;
  /** As StoredEvent.data(). */
  data(k: number): Uint8Array;
  /** Event `k` as a StoredEvent (a new object each call). */
  record(k: number): StoredEvent;
}

/** One piece of a file that recovery cut (or, when `truncated` is false, found and left for the next writer). */
export interface RecoveryCut {
  file: string;
  /** Where the cut starts (the new size of the file). */
  offset: number;
  bytes: number;
  reason: string;
}

export interface RecoveryReport {
  /** Partition number. */
  partition: number;
  /** First id of the cut entries (ids never handed out to anyone as events); null when only orphan bytes were cut. */
  firstCutId: number | null;
  /** Index entries dropped from the tail (torn or failing their checksum). */
  droppedEntries: number;
  /** Orphan bytes cut from metadata/data files (written but never committed). */
  droppedBytes: number;
  /** Human-readable lines naming file and offset of what was dropped (and of a recovery point re-created). */
  notes: string[];
  /** Per file: where, how much and why. */
  cuts: RecoveryCut[];
  /** True when the files were cut; false when the tail was only found (a read-only open) and left in place. */
  truncated: boolean;
}

export interface PartitionStats {
  firstId: number;
  endId: number; // one past the last committed id
  events: number;
  metadataBytes: number;
  dataBytes: number;
  segments: number;
  firstTimestamp: number | null;
  lastTimestamp: number | null;
}

export interface VerifyProblem {
  file: string;
  offset: number;
  id?: number;
  message: string;
}

/** What lib/ needs from one partition of a topic (implemented by the native log and by the reference-format log). */
export interface PartitionLogLike {
  readonly dir: string;
  readonly index: number;
  /** Appends a batch under the writer lock; returns the dense ids assigned. Synchronous. */
  append(events: readonly AppendEvent[]): AppendResult;
  /** fsync what was appended (a no-op with 'buffered'). */
  flush(): void;
  /** Re-reads the committed end (other processes may have appended); returns it. Cheap (fstat). */
  refresh(): number;
  /** Cached committed end (one past the last id). */
  readonly endId: number;
  /** First id still stored (0 unless segments were removed). */
  readonly startId: number;
  /** Reads committed event `id`; throws OUT_OF_RANGE when id >= end, CORRUPTION on a bad checksum. */
  read(id: number): StoredEvent;
  /**
   * Reads up to `max` committed events from `from` on (fewer at the end, [] when `from` is the end); OUT_OF_RANGE
   * when `from` is past the end or before startId. Ids and `max`: TypeError when not numbers, OUT_OF_RANGE when
   * negative or fractional.
   */
  readRange(from: number, max: number): StoredEvent[];
  /**
   * Optional (native log): readRange() as a StoredRun, for readers that take events by position. It may stop early
   * (at the end of a segment), and answers with the records themselves where a run does not apply (damage found,
   * a single event, a big-endian host): those report their problems event by event, as readRange's do.
   */
  readRun?(from: number, max: number): StoredRun | StoredEvent[];
  /** First id whose timestamp is >= `ms` (endId if none). */
  findByTime(ms: number): number;
  /**
   * Resolves true when the committed end exceeds `knownEnd` (a commit by any process), false on timeout.
   * No spinning: file watching plus a slow poll as fallback. `signal` aborts the wait (resolves false).
   */
  waitForAppend(knownEnd: number, timeoutMs: number, signal?: AbortSignal): Promise<boolean>;
  stats(): PartitionStats;
  verify(): VerifyProblem[];
  close(): void;
}

/** The persisted description of a topic (`topic.json` in the native format). */
export interface TopicManifest {
  formatVersion: number;
  numPartitions: number;
  createdAt: number;
  /** Opaque JSON owned by the layer above (component configs etc.); the engine stores it verbatim. */
  components: Record<string, unknown>;
  /** Which on-disk layout this topic uses. */
  format: 'native' | 'reference';
  /** When segments may be removed (retention/retention-policy.ts); absent: kept forever. Native topics only. */
  retention?: RetentionPolicy;
}

/** What lib/ needs from one topic on disk (native layout, or the C++ reference's layout). */
export interface TopicStoreLike {
  readonly name: string;
  readonly dir: string;
  readonly manifest: TopicManifest;
  readonly numPartitions: number;
  /** Opens partition `i` lazily (running crash recovery the first time); same object on every call. */
  partition(i: number): PartitionLogLike;
  /** TOPIC_NOT_FOUND once the topic's folder was deleted, or replaced by a topic created again under the name. */
  assertFolderUnchanged(): void;
  close(): void;
}
