// What a consumer and its process() accept, and the checks that turn bad values into typed errors.

import type { TopicBackend } from '../backend.js';
import type { Serializer } from '../components/serializer.js';
import type { DataAllocator, DataSelector } from '../data/selection.js';
import { DiasporaError, ErrorCode } from '../errors.js';
import type { Event } from '../event.js';
import type { JsonObject, JsonValue } from '../json.js';
import { outOfRange } from '../option-keys.js';
import { checkPositiveInt, type BatchSize } from '../options.js';
import { isPosition, type Position } from '../positions.js';
import { ThreadPool } from '../thread-pool.js';
import type { ModuleRef } from '../threads/module-ref.js';
import type { ProcessOrdering } from '../threads/threaded-process.js';
import type { OnTrimmed } from './trimmed.js';

/** Where a consumer starts in each partition. */
export type StartPosition = 'committed' | Position;

/** The keys ConsumerOptions accepts; any other key is BAD_CONFIG. */
export const CONSUMER_OPTION_KEYS = [
  'dataSelector',
  'dataAllocator',
  'targets',
  'batchSize',
  'maxNumBatches',
  'threadPool',
  'from',
  'until',
  'standby',
  'durable',
  'onTrimmed',
] as const;

/** The keys ProcessOptions accepts; any other key is BAD_CONFIG. */
export const PROCESS_OPTION_KEYS = ['timeoutMs', 'maxEvents', 'threadPool', 'ordering', 'concurrency'] as const;

export interface ConsumerOptions<M = JsonValue> {
  /** A function (runs on this thread), or a module reference (`{ module, export? }`, also runs on a pool's threads). */
  dataSelector?: DataSelector<M> | ModuleRef;
  dataAllocator?: DataAllocator<M> | ModuleRef;
  /** Partition indices to read (default: all). */
  targets?: readonly number[];
  /** Events read from the engine at a time (default Adaptive = 256). */
  batchSize?: BatchSize;
  /**
   * Accepted for compatibility with the Diaspora API (validated, default 2) but without effect: the built-in drivers
   * read ahead on their own (files: reads come from the mapping; nats: an ordered consumer streams).
   */
  maxNumBatches?: number;
  threadPool?: ThreadPool;
  /** Default 'committed': after the last acknowledged event (or the earliest when none). */
  from?: StartPosition;
  /** 'end': read what exists when the consumer starts, then finish. Default: wait for more forever. */
  until?: 'end';
  /** Wait for partitions claimed by another live consumer of the same name instead of failing with CONSUMER_BUSY. */
  standby?: boolean;
  /** false: no claims and no offsets written (read-only replay/inspection). Default true. */
  durable?: boolean;
  /**
   * When retention removed events at this consumer's position before it read them: 'error' (default) fails with
   * OUT_OF_RANGE, 'earliest' skips to the first stored event with a warning. lag() counts the events lost.
   */
  onTrimmed?: OnTrimmed;
}

export interface ProcessOptions {
  /** Stop after this long without any event (ms). Default: never (negative also means never). */
  timeoutMs?: number;
  maxEvents?: number;
  /** A pool of n >= 1 threads runs the processor, selector and allocator (named by module) on its worker threads. */
  threadPool?: ThreadPool;
  /**
   * Threaded pools: 'ordered' (default) processes each partition's events in id order (partitions in parallel);
   * 'unordered' also runs events of one partition concurrently. Acknowledgements never pass an unfinished event.
   */
  ordering?: ProcessOrdering;
  /** Closures on this thread: up to this many processors in flight (overlapping their awaits). Default 1. */
  concurrency?: number;
}

/** Options of consumer.processBatches(): as process(), on this thread, one batch at a time. */
export type BatchProcessOptions = Pick<ProcessOptions, 'timeoutMs' | 'maxEvents'>;
export const BATCH_PROCESS_OPTION_KEYS = ['timeoutMs', 'maxEvents'] as const;

export type EventProcessor<M = JsonValue> = (event: Event<M>) => void | Promise<void>;

export interface PartitionLag {
  partition: number;
  /** Last acknowledged id, or null. */
  committed: number | null;
  /** Next id this consumer will deliver. */
  position: number;
  /** One past the last committed event of the partition. */
  endId: number;
  /** Events after the last acknowledgement. */
  pendingEvents: number;
  /** Approximate bytes (metadata + data) of those events. */
  pendingBytes: number;
  /** Events retention removed before this consumer read them (skipped since it opened, or below its position now). */
  lostEvents: number;
}

/** What the consumer needs from its topic. */
export interface ConsumerTopic {
  readonly name: string;
  readonly backend: TopicBackend;
  readonly serializer: Serializer;
  readonly closed: boolean;
  /** The driver that opened the topic: worker threads open the topic again through it. */
  readonly driver?: { readonly closed: boolean; readonly type?: string; readonly options?: JsonObject };
  /** This consumer finished closing (the topic stops keeping it). */
  childClosed?(child: object): void;
}

/** Checks `from`: 'committed' or a replay position. */
export function readStartPosition(value: unknown): StartPosition {
  const from: unknown = value ?? 'committed';
  if (from !== 'committed' && !isPosition(from)) {
    const expected = "'committed', 'earliest', 'latest', a non-negative event id or a valid Date";
    if (typeof from === 'string' || typeof from === 'number' || from instanceof Date) throw outOfRange('from', expected, from);
    throw new TypeError(`from must be ${expected}`);
  }
  return from;
}

export function readUntil(value: unknown): 'end' | undefined {
  if (value !== undefined && value !== 'end') {
    if (typeof value === 'string') throw outOfRange('until', "'end' (or absent: wait forever)", value);
    throw new TypeError("until must be 'end' or undefined");
  }
  return value;
}

/** The partitions to read: every one by default, else the distinct indices given. */
export function readTargets(value: unknown, topicName: string, numPartitions: number): number[] {
  if (value === undefined || value === null) return Array.from({ length: numPartitions }, (_, i) => i);
  if (!Array.isArray(value)) throw new TypeError('targets must be an array of partition indices');
  const targets = [...new Set(value as number[])];
  for (const t of targets) {
    if (!Number.isInteger(t) || t < 0) throw new TypeError('targets must be non-negative integers');
    if (t >= numPartitions) throw new DiasporaError(ErrorCode.OUT_OF_RANGE, `topic "${topicName}" has ${numPartitions} partitions; no partition ${t}`);
  }
  if (targets.length === 0) throw new DiasporaError(ErrorCode.BAD_ARGUMENT, 'targets must name at least one partition');
  return targets;
}

export function readBoolean(value: unknown, name: string, fallback: boolean): boolean {
  const v = value ?? fallback;
  if (typeof v !== 'boolean') throw new TypeError(`${name} must be a boolean`);
  return v;
}

export interface CheckedProcessOptions {
  timeoutMs: number;
  maxEvents: number;
  pool: ThreadPool;
  ordering: ProcessOrdering;
  concurrency: number;
}

/** Checks the values of process() options (their keys are checked first); the consumer's own pool is the default. */
export function readProcessOptions(options: ProcessOptions, defaultPool: ThreadPool): CheckedProcessOptions {
  const timeoutMs = options.timeoutMs ?? -1;
  if (typeof timeoutMs !== 'number') throw new TypeError('timeoutMs must be a number');
  if (Number.isNaN(timeoutMs)) throw outOfRange('timeoutMs', 'a number of milliseconds (negative: never)', timeoutMs);
  const maxEvents = options.maxEvents ?? Infinity;
  if (typeof maxEvents !== 'number') throw new TypeError('maxEvents must be a non-negative integer');
  if (maxEvents !== Infinity && (!Number.isSafeInteger(maxEvents) || maxEvents < 0)) throw outOfRange('maxEvents', 'a non-negative integer or Infinity', maxEvents);
  const pool = options.threadPool ?? defaultPool;
  if (!(pool instanceof ThreadPool)) throw new TypeError('threadPool must be a ThreadPool');
  const ordering = options.ordering ?? 'ordered';
  if (ordering !== 'ordered' && ordering !== 'unordered') {
    if (typeof ordering === 'string') throw outOfRange('ordering', "'ordered' or 'unordered'", ordering);
    throw new TypeError("ordering must be 'ordered' or 'unordered'");
  }
  const concurrency = checkPositiveInt(options.concurrency, 'concurrency', 1);
  if (pool.threadCount > 0 && options.concurrency !== undefined) {
    throw new DiasporaError(ErrorCode.BAD_CONFIG, 'concurrency applies to processors on this thread; a threaded pool runs one processor per thread');
  }
  return { timeoutMs, maxEvents, pool, ordering, concurrency };
}
