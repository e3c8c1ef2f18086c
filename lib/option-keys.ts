// One check of options objects at every API boundary: a key nobody reads is a typo, and a typo must not be
// accepted silently (`{ untill: 'end' }` would otherwise wait forever instead of ending).

import { DiasporaError, ErrorCode } from './errors.js';

/**
 * Throws TypeError unless `options` is a plain object, and BAD_CONFIG naming the first unknown key and the valid
 * ones. Only own enumerable string keys count; a key whose value is `undefined` is still checked (it is a typo too).
 */
export function checkOptionKeys(options: unknown, valid: readonly string[], what: string): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`${what} must be an object, got ${options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options}`);
  }
  for (const key in options) {
    if (!Object.prototype.hasOwnProperty.call(options, key)) continue;
    if (!valid.includes(key)) {
      throw new DiasporaError(
        ErrorCode.BAD_CONFIG,
        `Unknown key ${JSON.stringify(key)} in ${what} (valid: ${valid.join(', ')})`,
        { key, valid: [...valid] },
      );
    }
  }
}

/** BAD_CONFIG for a value of the right type outside its documented range. */
export function outOfRange(what: string, expected: string, got: unknown): DiasporaError {
  return new DiasporaError(ErrorCode.BAD_CONFIG, `${what} must be ${expected}, got ${describe(got)}`, { key: what });
}

function describe(v: unknown): string {
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
