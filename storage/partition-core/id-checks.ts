// Argument checks shared by every partition format: a wrong type is a TypeError, a number that cannot be an id
// (negative, fractional, NaN, unsafe) is OUT_OF_RANGE.
import { StorageError } from '../types.js';

/** Checks an event id (or a range start). */
export function checkId(name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number, got ${typeof value}`);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new StorageError('OUT_OF_RANGE', `${name} must be a non-negative integer, got ${value}`, { id: value });
  }
}

/** Checks the `max` of a readRange. */
export function checkMax(max: unknown): asserts max is number {
  if (typeof max !== 'number') throw new TypeError(`max must be a number, got ${typeof max}`);
  if (!Number.isInteger(max) || max < 0) throw new StorageError('OUT_OF_RANGE', `max must be a non-negative integer, got ${max}`);
}
