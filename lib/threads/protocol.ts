// The messages between a ThreadPool (main thread) and its workers (worker-entry.ts). Everything here is plain data
// (structured-clone safe): work is named by ModuleRefSpec, events by partition and id, never passed as objects.

import { DiasporaError, ErrorCode, type ErrorDetails } from '../errors.js';
import type { JsonObject } from '../json.js';
import type { ModuleRefSpec } from './module-ref.js';

/** What a worker needs to read a topic itself and run a consumer's work on its events. */
export interface SessionSpec {
  driver: { type: string; options: JsonObject };
  topic: string;
  processor: ModuleRefSpec;
  selector?: ModuleRefSpec;
  allocator?: ModuleRefSpec;
}

export type ToWorker =
  | { t: 'open'; req: number; session: number; spec: SessionSpec }
  /** Process events first .. first + count - 1 of a partition, in id order. */
  | { t: 'run'; req: number; session: number; partition: number; first: number; count: number }
  | { t: 'close'; req: number; session: number }
  /** Close every session and end the thread by letting its event loop run empty (its output is flushed). */
  | { t: 'exit' };

/** An error as it crosses the thread boundary. */
export interface WireError {
  name: string;
  message: string;
  stack?: string;
  code?: string;
  details?: ErrorDetails;
}

export interface JobResult {
  /** Events completed, from `first` on, in order (all of them unless `failedId` or `stoppedId` is set). */
  completed: number;
  /** The event whose processing failed (its error in `error`); events after it in the job did not run. */
  failedId?: number;
  error?: WireError;
  /** The event whose processor threw StopEventProcessor (it counts as completed; events after it did not run). */
  stoppedId?: number;
}

export type FromWorker =
  | { t: 'reply'; req: number; ok: true; result?: JobResult }
  | { t: 'reply'; req: number; ok: false; error: WireError }
  /**
   * event.acknowledge(): `id` is the acknowledged id. Made while an event ran, it is sent once that event completed,
   * with `through` = that event's id (every event of its job up to it completed).
   */
  | { t: 'ack'; session: number; partition: number; id: number; through?: number };

/** Keeps only the details that survive cloning and say something (file, offset, ids, ...). */
function plainDetails(details: ErrorDetails | undefined): ErrorDetails | undefined {
  if (!details) return undefined;
  const out: ErrorDetails = {};
  for (const [k, v] of Object.entries(details)) {
    if (k === 'cause') continue;
    if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = v;
  }
  return out;
}

export function toWire(err: unknown): WireError {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return {
      name: err.name,
      message: err.message,
      stack: err.stack,
      code: typeof code === 'string' ? code : undefined,
      details: plainDetails((err as { details?: ErrorDetails }).details),
    };
  }
  return { name: 'Error', message: String(err) };
}

/** The error as the main thread sees it again: a DiasporaError when it carried one of our codes, else an Error. */
export function fromWire(w: WireError): Error {
  let e: Error;
  if (w.code !== undefined && w.code in ErrorCode) e = new DiasporaError(w.code as ErrorCode, w.message, w.details ?? {});
  else if (w.name === 'TypeError') e = new TypeError(w.message);
  else {
    e = new Error(w.message);
    if (w.code !== undefined) (e as { code?: string }).code = w.code;
  }
  e.name = w.name;
  if (w.stack !== undefined) e.stack = w.stack;
  return e;
}

/** A failure of one event's processing in a worker, naming the event (like the consumer's own event errors). */
export function eventFailure(partition: number, id: number, w: WireError): DiasporaError {
  const cause = fromWire(w);
  const code = cause instanceof DiasporaError ? cause.code : ErrorCode.GENERIC;
  const prefix = `partition ${partition} event ${id}: `;
  const message = w.message.startsWith(prefix) ? w.message : prefix + w.message;
  return new DiasporaError(code, message, {
    ...(cause instanceof DiasporaError ? cause.details : {}),
    partition,
    id,
    cause,
  });
}
