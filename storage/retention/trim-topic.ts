// One trim of a native topic: its policy re-read from topic.json, the acknowledged positions of the consumers the
// policy waits for read from their offset files, then each partition trimmed under its writer lock
// (PartitionLog.trim). What enforces retention calls this: topic.trim(), `diaspora-ctl topic trim`, producers
// (at most every few seconds) and the forward daemon. Several processes may run it at once: the writer lock
// serialises them, and the second one finds nothing left to remove.
import { ConsumerOffsets } from '../consumer-offsets.js';
import type { TopicStore } from '../topic-store.js';
import { ackedFloorOf, type TrimReason } from './trim-plan.js';

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

export function trimTopic(store: TopicStore, opts: TrimTopicOptions = {}): PartitionTrimResult[] {
  const policy = store.currentRetention();
  const now = opts.now ?? Date.now();
  const consumers = policy?.keepUntilAckedBy === undefined ? [] : ConsumerOffsets.list(store.dir);
  const partitions = opts.partitions ?? Array.from({ length: store.numPartitions }, (_, i) => i);
  const out: PartitionTrimResult[] = [];
  for (const p of partitions) {
    const log = store.partition(p);
    if (policy === null && opts.onlyWithPolicy === true) {
      // Nothing to remove: no lock taken, no segment listed (producers call this once a second).
      out.push({ partition: p, firstIdBefore: log.startId, firstId: log.startId, endId: log.endId, removedSegments: 0, removedEvents: 0, removedBytes: 0, reasons: [] });
      continue;
    }
    const acked = new Map<string, number | null>();
    for (const c of consumers) acked.set(c.name, c.partitions.get(p) ?? null);
    const plan = log.trim(policy, ackedFloorOf(policy, acked), now, opts.dryRun === true);
    const removedEvents = plan.removed.reduce((n, s) => n + (s.endId - s.baseId), 0);
    out.push({
      partition: p, firstIdBefore: plan.firstId - removedEvents, firstId: plan.firstId, endId: log.endId,
      removedSegments: plan.removed.length, removedEvents,
      removedBytes: plan.bytes, reasons: plan.removed.map((s) => s.reason),
    });
  }
  return out;
}
