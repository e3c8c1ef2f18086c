// Retention of the files driver's native topics (storage/retention/). Enforced by whoever writes, never by a
// background thread: topic.trim() and `diaspora-ctl topic trim` explicitly, the forward daemon, and producers
// after an append at most once per TRIM_CHECK_MS per partition (one read of topic.json then; a segment listing and
// the trim itself only when a policy is set). Reference-format topics have none: UNSUPPORTED.
import { DiasporaError, ErrorCode } from '../../errors.js';
import { guard } from './guard.js';
import { TopicStore } from '../../../storage/topic-store.js';
import { ConsumerOffsets } from '../../../storage/consumer-offsets.js';
import { trimTopic, type PartitionTrimResult } from '../../../storage/retention/trim-topic.js';
import type { RetentionPolicy } from '../../../storage/retention/retention-policy.js';
import type { TopicStoreLike } from '../../../storage/types.js';

/** How often (at most) a producer's appends to one partition check the policy and trim. */
export const TRIM_CHECK_MS = 1000;

export class FilesRetention {
  private readonly nextCheck: number[] = [];

  constructor(private readonly store: TopicStoreLike) {}

  private native(): TopicStore {
    if (this.store instanceof TopicStore) return this.store;
    throw new DiasporaError(ErrorCode.UNSUPPORTED, `topic "${this.store.name}" is in the reference format, which has no retention`);
  }

  retention(): RetentionPolicy | null {
    if (!(this.store instanceof TopicStore)) return null;
    return guard(() => {
      this.store.assertFolderUnchanged();
      return this.native().currentRetention();
    });
  }

  setRetention(policy: RetentionPolicy | null): void {
    guard(() => {
      this.store.assertFolderUnchanged(); // topic.json is rewritten by path: never a new topic's
      this.native().setRetention(policy);
    });
  }

  trim(dryRun: boolean): PartitionTrimResult[] {
    return guard(() => trimTopic(this.native(), { dryRun }));
  }

  /**
   * After an append to `partition`: trims it when the last check is TRIM_CHECK_MS old. The events are committed
   * already, so a failing trim must not fail the append: it is reported as a process warning (the next explicit
   * trim reports it as an error).
   */
  afterAppend(partition: number): void {
    if (!(this.store instanceof TopicStore)) return;
    // The interval on the monotonic clock: a wall clock stepped back (NTP, a resumed VM) must not stop the checks
    // until it is back where it was. Ages are judged by the wall clock (event timestamps are wall-clock times).
    const tick = performance.now();
    if (tick < (this.nextCheck[partition] ?? -Infinity)) return;
    this.nextCheck[partition] = tick + TRIM_CHECK_MS;
    try {
      trimTopic(this.store, { partitions: [partition], now: Date.now(), onlyWithPolicy: true });
    } catch (err) {
      process.emitWarning(`retention of topic "${this.store.name}" partition ${partition}: ${(err as Error).message}`, { code: 'DIASPORA_TRIM_FAILED' });
    }
  }

  deleteConsumer(name: string, staleMs: number | undefined): boolean {
    return guard(() => {
      this.store.assertFolderUnchanged();
      return ConsumerOffsets.remove(this.store.dir, name, { staleMs });
    });
  }
}
