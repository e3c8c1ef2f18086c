// Recovery reports of every partition format: what crash recovery cut (or found and left) at a partition's tail.
import type { RecoveryReport } from '../types.js';

/** Adds `more` to `into` (null meaning nothing dropped yet). */
export function mergeReports(into: RecoveryReport | null, more: RecoveryReport | null): RecoveryReport | null {
  if (more === null) return into;
  if (into === null) return { ...more, notes: [...more.notes], cuts: [...more.cuts] };
  return {
    partition: into.partition,
    firstCutId: into.firstCutId ?? more.firstCutId,
    droppedEntries: into.droppedEntries + more.droppedEntries,
    droppedBytes: into.droppedBytes + more.droppedBytes,
    notes: [...into.notes, ...more.notes],
    cuts: [...into.cuts, ...more.cuts],
    truncated: into.truncated || more.truncated,
  };
}

/**
 * What a writer's repair under the lock cut (`cut`, null: nothing) added to the report so far. A tail that a
 * read-only open only found (`truncated: false`) is superseded: the repair cut it, or found it gone meanwhile.
 */
export function mergeRepair(current: RecoveryReport | null, cut: RecoveryReport | null): RecoveryReport | null {
  return mergeReports(current?.truncated === false ? null : current, cut);
}
