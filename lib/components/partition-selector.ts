// PartitionSelector: picks the partition an event goes to.
import { DiasporaError, ErrorCode } from '../errors.js';
import type { JsonObject, JsonValue } from '../json.js';

export interface PartitionSelector {
  /** Called by the driver with one info object per partition of the topic. */
  setPartitions(partitions: JsonObject[]): void;
  /** Returns an index in [0, N). `requested` is the partition the producer asked for, if any. */
  selectPartitionFor(metadata: JsonValue, requested?: number): number;
  /** The configuration that rebuilds this selector through `partitionSelectorFromMetadata`. */
  metadata(): JsonObject;
}

export function isPartitionSelector(value: unknown): value is PartitionSelector {
  const p = value as PartitionSelector | null;
  return (
    typeof p === 'object' && p !== null && typeof p.setPartitions === 'function' &&
    typeof p.selectPartitionFor === 'function' && typeof p.metadata === 'function'
  );
}

/** Round robin starting at partition 0; a requested partition is taken modulo N. One counter per instance. */
export class DefaultPartitionSelector implements PartitionSelector {
  private count = 0;
  private next = 0;

  setPartitions(partitions: JsonObject[]): void {
    if (!Array.isArray(partitions)) throw new TypeError('setPartitions expects an array of partition info objects');
    this.count = partitions.length;
    this.next = 0;
  }

  selectPartitionFor(_metadata: JsonValue, requested?: number): number {
    if (requested !== undefined && !(Number.isSafeInteger(requested) && requested >= 0)) {
      throw new TypeError(`requested partition must be a non-negative integer, got ${String(requested)}`);
    }
    const n = this.count;
    if (n === 0) throw new DiasporaError(ErrorCode.GENERIC, 'PartitionSelector has no target to select from');
    if (requested !== undefined) return requested % n;
    const index = this.next;
    this.next = index + 1 === n ? 0 : index + 1;
    return index;
  }

  metadata(): JsonObject {
    return { type: 'default' };
  }
}
