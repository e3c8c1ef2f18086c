// Classification of client errors: transient ones (timeouts, no responders, leader elections, a lost server)
// are retried for a while; the rest become DiasporaErrors with a stable code.

import { DiasporaError, ErrorCode } from '../../errors.js';

/** JetStream API error codes the driver reacts to. */
export const JsCode = {
  WRONG_LAST_SEQUENCE: 10071,
  WRONG_LAST_MSG_ID: 10070,
  STREAM_NOT_FOUND: 10059,
  STREAM_NAME_IN_USE: 10058,
  CONSUMER_NOT_FOUND: 10014,
} as const;

export function apiCode(err: unknown): number | undefined {
  const e = err as { code?: unknown; api_error?: { err_code?: unknown } };
  if (typeof e?.api_error?.err_code === 'number') return e.api_error.err_code;
  // JetStreamApiError exposes the JetStream code as `code`.
  return typeof e?.code === 'number' ? e.code : undefined;
}

// JetStreamNotEnabled is what a cluster answers while it has no JetStream leader (not at connect: see the driver).
const TRANSIENT_NAMES = new Set(['TimeoutError', 'NoRespondersError', 'RequestError', 'ConnectionError', 'JetStreamNotEnabled']);
const TRANSIENT_TEXT = /timeout|timed out|no responders|503|not available|unavailable|no suitable peers|leader|offline|insufficient resources|no quorum|catchup/i;

/**
 * The server refused the subject to this user (its permissions): a request fails as a RequestError (otherwise
 * retried) whose cause says so. Nothing changes by waiting: reported at once as IO instead of a TIMEOUT after retry_ms.
 */
function isPermissionViolation(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e.name === 'PermissionViolationError' || /permissions violation/i.test(e.message)) return true;
  }
  return false;
}

export function isTransient(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === 'ClosedConnectionError' || err.name === 'DrainingConnectionError') return false;
  if (isPermissionViolation(err)) return false;
  const code = apiCode(err);
  if (code === JsCode.WRONG_LAST_SEQUENCE || code === JsCode.WRONG_LAST_MSG_ID || code === JsCode.STREAM_NOT_FOUND) return false;
  if ((err as { status?: unknown }).status === 503) return true;
  return TRANSIENT_NAMES.has(err.name) || TRANSIENT_TEXT.test(err.message);
}

/** Converts a client error into a DiasporaError (CLOSED, TIMEOUT, IO) keeping it as the cause. */
export function natsError(err: unknown, what: string): DiasporaError {
  if (err instanceof DiasporaError) return err;
  const e = err as Error;
  const message = `${what}: ${e?.message ?? String(err)}`;
  if (e?.name === 'ClosedConnectionError' || e?.name === 'DrainingConnectionError') {
    return new DiasporaError(ErrorCode.CLOSED, message, { cause: err });
  }
  if (isTransient(err)) return new DiasporaError(ErrorCode.TIMEOUT, message, { cause: err });
  return new DiasporaError(ErrorCode.IO, message, { cause: err });
}

export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });

/**
 * Runs `fn`, retrying transient failures (`transient`: isTransient by default) with backoff for up to `retryMs`;
 * other errors are thrown at once.
 */
export async function withRetry<T>(retryMs: number, what: string, fn: () => Promise<T>, transient: (err: unknown) => boolean = isTransient): Promise<T> {
  const deadline = Date.now() + retryMs;
  let delay = 50;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (!transient(err) || Date.now() + delay > deadline) throw natsError(err, what);
      await sleep(delay);
      delay = Math.min(delay * 2, 1000);
    }
  }
}
