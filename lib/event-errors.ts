// The errors of one event being made ready for delivery (metadata decoding, data selection), naming the event.
// Shared by the consumer and by worker threads. Built out of line, so that the per-event code that calls them stays
// small enough to be inlined with what it calls.

import { DiasporaError, ErrorCode, toDiasporaError } from './errors.js';

export function undecodableMetadata(partition: number, id: number, err: unknown): DiasporaError {
  return new DiasporaError(ErrorCode.CORRUPTION, `partition ${partition} event ${id}: ${(err as Error).message}`, {
    partition,
    id,
    cause: err,
  });
}

/** A data selection failure, naming the event; a TypeError (a programming error) is passed on unchanged. */
export function dataSelectionError(partition: number, id: number, err: unknown): unknown {
  if (err instanceof TypeError) return err;
  const e = toDiasporaError(err);
  const code = e instanceof DiasporaError ? e.code : ErrorCode.GENERIC;
  return new DiasporaError(code, `partition ${partition} event ${id}: ${e.message}`, {
    ...(e instanceof DiasporaError ? e.details : {}),
    partition,
    id,
    cause: err,
  });
}
