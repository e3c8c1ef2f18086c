// What a consumer does when its position lies below the first id a partition still stores (retention removed the
// events it had not read yet): by default it fails with OUT_OF_RANGE (nothing is skipped without the application
// knowing); with `onTrimmed: 'earliest'` it skips forward to the first stored id with a process warning. Either
// way its lag() reports the events it lost.
import { DiasporaError, ErrorCode } from '../errors.js';
import { outOfRange } from '../option-keys.js';

export type OnTrimmed = 'error' | 'earliest';

export function checkOnTrimmed(v: unknown): OnTrimmed {
  if (v === undefined) return 'error';
  if (v === 'error' || v === 'earliest') return v;
  if (typeof v === 'string') throw outOfRange('onTrimmed', "'error' or 'earliest'", v);
  throw new TypeError("onTrimmed must be 'error' or 'earliest'");
}

/** The first stored id an OUT_OF_RANGE read error names, if it says that `position` was removed; else null. */
export function trimmedFirstId(err: unknown, position: number): number | null {
  if (!(err instanceof DiasporaError) || err.code !== ErrorCode.OUT_OF_RANGE) return null;
  const first = err.details.firstId;
  return typeof first === 'number' && first > position ? first : null;
}

/** True for the error below: the position must not move past it (the application decides what to do). */
export function isTrimmedError(err: unknown): boolean {
  return err instanceof DiasporaError && err.details.trimmed === true;
}

/**
 * Handles position `position` of `partition` found below `firstId`: returns the events lost (skipping is up to the
 * caller) under 'earliest', throws OUT_OF_RANGE under 'error'.
 */
export function onPositionTrimmed(policy: OnTrimmed, consumer: string, partition: number, position: number, firstId: number): number {
  const lostEvents = firstId - position;
  if (policy === 'error') {
    throw new DiasporaError(
      ErrorCode.OUT_OF_RANGE,
      `consumer "${consumer}" is at event ${position} of partition ${partition}, but retention removed the events below ` +
        `${firstId} (${lostEvents} events it had not read); open it with onTrimmed: 'earliest' or move it with resetConsumer`,
      { partition, position, firstId, lostEvents, trimmed: true },
    );
  }
  process.emitWarning(
    `consumer "${consumer}" skipped events ${position}..${firstId - 1} of partition ${partition}: retention removed them before it read them`,
    { code: 'DIASPORA_EVENTS_TRIMMED' },
  );
  return lostEvents;
}
