// Small value types of the API, named as in the reference.

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

export function checkBatchSize(v: unknown, what = 'batchSize'): BatchSize {
  if (v === undefined || v === BatchSize.Adaptive) return BatchSize.Adaptive;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 1) return v;
  throw new TypeError(`${what} must be a positive integer or BatchSize.Adaptive`);
}

export function checkPositiveInt(v: unknown, what: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (v === Infinity) return Infinity;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 1) return v;
  throw new TypeError(`${what} must be a positive integer`);
}
