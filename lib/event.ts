// Event: what a consumer delivers — metadata, the selected data, its id and partition, and acknowledge().

import type { DataView } from './data/data-view.js';
import type { Future } from './future.js';
import type { JsonValue } from './json.js';

/** The part of a consumer an event needs to acknowledge itself. */
export interface Acknowledger {
  acknowledge(partition: number, id: number): Future<void>;
}

/** `M`: the metadata type the consumer was opened with (`topic.consumer<M>()`), not checked at run time. */
export class Event<M = JsonValue> {
  constructor(
    private readonly owner: Acknowledger,
    /** Index of the partition the event belongs to. */
    readonly partition: number,
    /** Id of the event within its partition (dense, from 0). */
    readonly id: number,
    /** Commit time, ms since the epoch (0 where the format has none). */
    readonly timestamp: number,
    readonly metadata: M,
    /** The bytes the data selector chose: zero-copy slices, or the allocator's memory filled in. */
    readonly data: DataView,
  ) {}

  /**
   * Records that every event of this partition up to this one is processed by this consumer name.
   * The future resolves once the position is written to the offsets store (see the README's durability table).
   */
  acknowledge(): Future<void> {
    return this.owner.acknowledge(this.partition, this.id);
  }
}
