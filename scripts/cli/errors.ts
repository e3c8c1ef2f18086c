// Error reporting of diaspora-ctl: one clear line on stderr and a non-zero exit code; a stack trace only with --debug.

import { DiasporaError, ErrorCode, type ErrorDetails } from '../../lib/index.js';

/**
 * A command-line mistake or a failed command: a DiasporaError (so it prints its stable code, `BAD_ARGUMENT` unless
 * said otherwise) with the exit code to use.
 */
export class CliError extends DiasporaError {
  readonly exitCode: number;
  constructor(message: string, code: ErrorCode = ErrorCode.BAD_ARGUMENT, options: { exitCode?: number; details?: ErrorDetails } = {}) {
    super(code, message, options.details);
    this.name = 'CliError';
    this.exitCode = options.exitCode ?? 1;
  }

  /** `err` with `prefix` before its message (`stdin:3: `), keeping its code and details (GENERIC for a plain error). */
  static wrap(prefix: string, err: unknown): CliError {
    if (err instanceof DiasporaError) return new CliError(`${prefix}${err.message}`, err.code, { details: { ...err.details, cause: err } });
    return new CliError(`${prefix}${err instanceof Error ? err.message : String(err)}`, ErrorCode.GENERIC, { details: { cause: err } });
  }
}

/** Exit code of `verify` when damage was found (other failures exit 1). */
export const EXIT_DAMAGED = 3;

let debug = false;

export function setDebug(on: boolean): void {
  debug = on;
}

export function isDebug(): boolean {
  return debug;
}

/** The one-line form of an error: its message, plus the stable code of a DiasporaError. */
export function describeError(err: unknown): string {
  if (err instanceof DiasporaError) {
    // The engine's messages usually name the file already: say where only when the message does not.
    const file = err.details.file;
    const named = typeof file === 'string' && err.message.includes(file);
    const where = file !== undefined && !named ? ` (${file}${err.details.offset !== undefined ? ` at offset ${err.details.offset}` : ''})` : '';
    return `${err.message}${where} [${err.code}]`;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}

/** Prints `err` the CLI way and sets the exit code (does not exit, so pending output is written). */
export function reportError(err: unknown): void {
  process.stderr.write(`diaspora-ctl: error: ${describeError(err).replace(/\s*\n\s*/g, ' ')}\n`);
  if (debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  process.exitCode = err instanceof CliError ? err.exitCode : 1;
}
