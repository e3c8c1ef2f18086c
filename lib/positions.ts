// Where in a partition a position names: the first id a consumer reads (from) or is reset to (resetConsumer).
import type { PartitionBackend } from './backend.js';

/** 'earliest' (first stored id), 'latest' (the end: only new events), an event id, or a time (first event at or after). */
export type Position = 'earliest' | 'latest' | number | Date;

export function isPosition(v: unknown): v is Position {
  return (
    v === 'earliest' || v === 'latest' ||
    (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) || // ids are safe integers: 2 ** 60 names none
    (v instanceof Date && !Number.isNaN(v.getTime()))
  );
}

/** The id `at` designates in a partition whose stored ids are [start, end). An id is returned as given. */
export async function idAt(b: PartitionBackend, at: Position, start: number, end: number): Promise<number> {
  if (at === 'earliest') return start;
  if (at === 'latest') return end;
  if (at instanceof Date) return b.findByTime(at.getTime());
  return at;
}
