// Small value types of the API, named as in the reference.
import { outOfRange } from './option-keys.js';

/** Batch size of producers and consumers: a positive integer, or Adaptive (group commit / as-soon-as-possible). */
export const BatchSize = {
  Adaptive: 'adaptive',
} as const;
export type BatchSize = number | typeof BatchSize.Adaptive;

/** Strict keeps push order within a partition; Loose lets the engine reorder concurrent writes. */
export const Ordering = {
  Strict: 'strict',
  Loose: 'loose',
} as const;
export type Ordering = (typeof Ordering)[keyof typeof Ordering];

/** A wrong type is a TypeError; a number out of range (0, 1.5, NaN) is BAD_CONFIG. */
export function checkBatchSize(v: unknown, what = 'batchSize'): BatchSize {
  if (v === undefined || v === BatchSize.Adaptive) return BatchSize.Adaptive;
  if (typeof v !== 'number') throw new TypeError(`${what} must be a positive integer or BatchSize.Adaptive`);
  if (Number.isSafeInteger(v) && v >= 1) return v;
  throw outOfRange(what, 'a positive integer or BatchSize.Adaptive', v);
}

export function checkPositiveInt(v: unknown, what: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number') throw new TypeError(`${what} must be a positive integer`);
  if (v === Infinity) return Infinity;
  if (Number.isSafeInteger(v) && v >= 1) return v;
  throw outOfRange(what, 'a positive integer (or Infinity)', v);
}

/** A producer's ordering (default Strict): another type is a TypeError, another string BAD_CONFIG. */
export function checkOrdering(v: unknown): Ordering {
  if (v === undefined) return Ordering.Strict;
  if (v === Ordering.Strict || v === Ordering.Loose) return v;
  if (typeof v !== 'string') throw new TypeError('ordering must be Ordering.Strict or Ordering.Loose');
  throw outOfRange('ordering', 'Ordering.Strict or Ordering.Loose', v);
}
