// The consumer's boundary with its engine. Engines answer synchronously (files) or with a promise (nats); this is
// the one place that tells the two apart and the one place that turns an engine's error into a DiasporaError, so
// the rest of the consumer works with plain values, a pending load, and typed errors only.

import type { MaybePromise } from '../backend.js';
import { toDiasporaError } from '../errors.js';

/** An engine answer being loaded: settles once it was applied (rejects with a DiasporaError). */
export type Loading = Promise<void>;

export const isLoading = (v: unknown): v is Loading => v instanceof Promise;

/**
 * Runs an engine call and hands its answer to `apply`: at once when the engine answered synchronously (then returns
 * undefined), else when it arrives (then returns the pending load). Errors of either kind come out as DiasporaErrors.
 */
export function applyAnswer<T>(call: () => MaybePromise<T>, apply: (value: T) => void): Loading | undefined {
  let answer: MaybePromise<T>;
  try {
    answer = call();
  } catch (err) {
    throw toDiasporaError(err);
  }
  if (!(answer instanceof Promise)) {
    apply(answer);
    return undefined;
  }
  return answer.then(apply, (err: unknown) => {
    throw toDiasporaError(err);
  });
}

/** Awaits an engine call (for the rare, not per-event calls: opening, positioning, statistics, closing). */
export async function engineCall<T>(call: () => MaybePromise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw toDiasporaError(err);
  }
}

/** The one conversion of an engine error, for errors that arrive by other ways (a claim, a wait). */
export const engineError = toDiasporaError;
