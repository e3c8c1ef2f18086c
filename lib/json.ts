// JSON value types and the metadata-text rules shared by the API (metadata is a JSON value or JSON text).
import { DiasporaError, ErrorCode } from './errors.js';

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/**
 * Decodes stored UTF-8 metadata. Fatal: invalid UTF-8 is an error rather than silently becoming U+FFFD. Decoding
 * reads the view in place, and measured as fast as Buffer#toString on Buffers and twice as fast on plain Uint8Arrays.
 */
export const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses JSON text, turning a syntax error into a typed BAD_JSON error. */
export function parseJsonText(text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch (err) {
    throw new DiasporaError(ErrorCode.BAD_JSON, `Could not parse JSON: ${(err as Error).message}`, { cause: err });
  }
}
