// Typed errors of the public API. Every failure a user can act on is a DiasporaError with a stable `code`;
// programmer mistakes (wrong argument types) are plain TypeErrors.

export const ErrorCode = {
  /** Anything without a more precise code. */
  GENERIC: 'GENERIC',
  TOPIC_EXISTS: 'TOPIC_EXISTS',
  TOPIC_NOT_FOUND: 'TOPIC_NOT_FOUND',
  BAD_NAME: 'BAD_NAME',
  BAD_CONFIG: 'BAD_CONFIG',
  BAD_ARGUMENT: 'BAD_ARGUMENT',
  INVALID_METADATA: 'INVALID_METADATA',
  BAD_JSON: 'BAD_JSON',
  UNKNOWN_DRIVER: 'UNKNOWN_DRIVER',
  UNKNOWN_COMPONENT: 'UNKNOWN_COMPONENT',
  CLOSED: 'CLOSED',
  CORRUPTION: 'CORRUPTION',
  EVENT_TOO_LARGE: 'EVENT_TOO_LARGE',
  OUT_OF_RANGE: 'OUT_OF_RANGE',
  INVALID_VIEW: 'INVALID_VIEW',
  BUFFER_TOO_SMALL: 'BUFFER_TOO_SMALL',
  CONSUMER_BUSY: 'CONSUMER_BUSY',
  /** A named consumer acknowledged events the partition no longer has (crash recovery cut them): reset it. */
  POSITION_PAST_END: 'POSITION_PAST_END',
  LOCK_FAILED: 'LOCK_FAILED',
  IO: 'IO',
  TIMEOUT: 'TIMEOUT',
  UNSUPPORTED: 'UNSUPPORTED',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface ErrorDetails {
  /** File involved (corruption, I/O). */
  file?: string;
  /** Byte offset inside `file`. */
  offset?: number;
  /** Underlying error. */
  cause?: unknown;
  [key: string]: unknown;
}

export class DiasporaError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails;
  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(message, details.cause !== undefined ? { cause: details.cause } : undefined);
    this.name = 'DiasporaError';
    this.code = code;
    this.details = details;
  }
}

/** A validator rejected an event's metadata (kept as its own class so `instanceof` works through futures). */
export class InvalidMetadata extends DiasporaError {
  constructor(message: string, details: ErrorDetails = {}) {
    super(ErrorCode.INVALID_METADATA, message, details);
    this.name = 'InvalidMetadata';
  }
}

/** Thrown by a processor given to `Consumer.process` to stop the loop. */
export class StopEventProcessor extends Error {
  constructor() {
    super('StopEventProcessor');
    this.name = 'StopEventProcessor';
  }
}

/**
 * Converts any error coming out of an engine (storage/, a server client) into a DiasporaError,
 * keeping its code when the engine already speaks our codes.
 */
export function toDiasporaError(err: unknown): DiasporaError | TypeError {
  if (err instanceof DiasporaError || err instanceof TypeError) return err;
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const details = (err as { details?: ErrorDetails }).details ?? {};
    if (typeof code === 'string' && code in ErrorCode) {
      return new DiasporaError(code as ErrorCode, err.message, { ...details, cause: err });
    }
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) {
      return new DiasporaError(ErrorCode.IO, err.message, { ...details, cause: err });
    }
    return new DiasporaError(ErrorCode.GENERIC, err.message, { ...details, cause: err });
  }
  return new DiasporaError(ErrorCode.GENERIC, String(err));
}
