// One trim of a native topic: each partition trimmed under its writer lock (PartitionLog.trim), with the policy read
// from topic.json and the acknowledged positions of the consumers it waits for both read under that lock. What enforces retention calls this: topic.trim(), `diaspora-ctl topic trim`, producers
// (at most every few seconds) and the forward daemon. Several processes may run it at once: the writer lock
// serialises them, and the second one finds nothing left to remove.
import type { TopicStore } from '../topic-store.js';
import { StorageError } from '../types.js';
import type { TrimReason } from './trim-plan.js';
import type { RetentionPolicy } from './retention-policy.js';
import { durableAckedFloor } from './durable-acked-floor.js';

export interface PartitionTrimResult {
  partition: number;
  /** First id before and after the trim. */
  firstIdBefore: number;
  firstId: number;
  endId: number;
  removedSegments: number;
  /** Ids removed: firstId - firstIdBefore. */
  removedEvents: number;
  removedBytes: number;
  /** Why each removed segment went, oldest first. */
  reasons: TrimReason[];
}

export interface TrimTopicOptions {
  /** Plan only: what would be removed; nothing is locked or changed. */
  dryRun?: boolean;
  /** Partitions to trim (default all). */
  partitions?: readonly number[];
  now?: number;
  /**
   * Skip partitions entirely when there is no policy (what producers ask for). Otherwise a trim without a policy
   * still takes the lock and finishes a trim a crash interrupted.
   */
  onlyWithPolicy?: boolean;
}

/**
 * Trims every partition asked for. A partition that fails (CORRUPTION, LOCK_FAILED...) does not stop the others:
 * they are all trimmed, then the failure is thrown as a StorageError naming each failed partition (the code of the
 * first failure; `details.partitions` the failed ones, `details.cause` the first error, and the error's
 * `results` property what the other partitions did).
 */
export function trimTopic(store: TopicStore, opts: TrimTopicOptions = {}): PartitionTrimResult[] {
  const policy = store.currentRetention();
  const now = opts.now ?? Date.now();
  const partitions = opts.partitions ?? Array.from({ length: store.numPartitions }, (_, i) => i);
  const out: PartitionTrimResult[] = [];
  const failed: { partition: number; error: unknown }[] = [];
  for (const p of partitions) {
    try {
      out.push(trimPartition(store, p, policy, now, opts));
    } catch (error) {
      failed.push({ partition: p, error });
    }
  }
  if (failed.length > 0) throw new TopicTrimError(failed, out);
  return out;
}

/** Some partitions of a topic trim failed; the others were trimmed (`results`). */
export class TopicTrimError extends StorageError {
  constructor(readonly failures: readonly { partition: number; error: unknown }[], readonly results: PartitionTrimResult[]) {
    const first = failures[0]!.error;
    super(
      first instanceof StorageError ? first.code : 'IO',
      `trim failed on ${failures.map((f) => `partition ${f.partition} (${(f.error as Error).message})`).join('; ')}` +
        (results.length > 0 ? `; partitions ${results.map((r) => r.partition).join(', ')} were trimmed` : ''),
      { cause: first, partitions: failures.map((f) => f.partition) },
    );
    this.name = 'StorageError';
  }
}

function trimPartition(store: TopicStore, p: number, policy: RetentionPolicy | null, now: number, opts: TrimTopicOptions): PartitionTrimResult {
  const log = store.partition(p);
  log.setRetentionRoll(policy);
  if (policy === null && opts.onlyWithPolicy === true) {
    // Nothing to remove: no lock taken, no segment listed (producers call this once a second).
    return { partition: p, firstIdBefore: log.startId, firstId: log.startId, endId: log.endId, removedSegments: 0, removedEvents: 0, removedBytes: 0, reasons: [] };
  }
  // The policy is read again under the partition's lock (one changed by another process since the trim began applies
  // to each partition locked after the change), and so is the acknowledged floor, made durable first
  // (durable-acked-floor.ts).
  const dryRun = opts.dryRun === true;
  const plan = log.trim(dryRun ? policy : () => store.currentRetention(), (current) => durableAckedFloor(store.dir, current, p), now, dryRun);
  const removedEvents = plan.removed.reduce((n, s) => n + (s.endId - s.baseId), 0);
  return {
    partition: p, firstIdBefore: plan.firstId - removedEvents, firstId: plan.firstId, endId: log.endId,
    removedSegments: plan.removed.length, removedEvents,
    removedBytes: plan.bytes, reasons: plan.removed.map((s) => s.reason),
  };
}
