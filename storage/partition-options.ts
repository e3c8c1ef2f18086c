// Options of a native partition: checked (TypeError for wrong types, BAD_CONFIG for bad values) and defaulted.
import { FLUSH_BEHAVIORS, StorageError, type FlushBehavior, type PartitionOptions } from './types.js';
import { DEFAULT_LOCK_STALE_MS } from './writer-lock.js';

// 1 GiB, as Kafka's log.segment.bytes: each segment a reader maps adds its size to V8's external memory, and every
// mapping over 64 MiB starts a full GC; with 256 MiB segments a 2 GB read of 1 MiB events ran 20-40 % slower than
// with 1 GiB (docs/benchmarks-history.md "Fifth pass"). A size retention policy makes segments smaller
// (retention-policy.ts retentionRollBytes).
export const DEFAULT_SEGMENT_BYTES = 1024 * 1024 * 1024;
export const MAX_SEGMENT_BYTES = 1024 * 1024 * 1024;
export { MAX_EVENT_PART_BYTES } from './partition-core/batch-check.js';

export interface ResolvedPartitionOptions {
  flushBehavior: FlushBehavior;
  segmentBytes: number;
  lockStaleMs: number;
  verifyData: boolean;
}

/** Checks options (TypeError for wrong types, BAD_CONFIG for bad values) and fills in defaults. */
export function resolvePartitionOptions(opts: PartitionOptions = {}): ResolvedPartitionOptions {
  if (opts === null || typeof opts !== 'object') throw new TypeError('partition options must be an object');
  const flushBehavior = opts.flushBehavior ?? 'buffered';
  if (typeof flushBehavior !== 'string') throw new TypeError('flushBehavior must be a string');
  if (!FLUSH_BEHAVIORS.includes(flushBehavior)) {
    throw new StorageError('BAD_CONFIG', `Invalid flush_behavior: ${flushBehavior}. Valid values are: ${FLUSH_BEHAVIORS.join(', ')}`);
  }
  const segmentBytes = opts.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
  if (typeof segmentBytes !== 'number') throw new TypeError('segmentBytes must be a number');
  if (!Number.isInteger(segmentBytes) || segmentBytes < 1 || segmentBytes > MAX_SEGMENT_BYTES) {
    throw new StorageError('BAD_CONFIG', `segmentBytes must be an integer in [1, ${MAX_SEGMENT_BYTES}], got ${segmentBytes}`);
  }
  const lockStaleMs = opts.lockStaleMs ?? DEFAULT_LOCK_STALE_MS;
  if (typeof lockStaleMs !== 'number') throw new TypeError('lockStaleMs must be a number');
  if (!Number.isFinite(lockStaleMs) || lockStaleMs <= 0) {
    throw new StorageError('BAD_CONFIG', `lockStaleMs must be a positive number of ms, got ${lockStaleMs}`);
  }
  const verifyData = opts.verifyData ?? true;
  if (typeof verifyData !== 'boolean') throw new TypeError('verifyData must be a boolean');
  return { flushBehavior, segmentBytes, lockStaleMs, verifyData };
}
