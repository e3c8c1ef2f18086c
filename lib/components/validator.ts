// Validator: decides whether an event may be pushed; a rejection is an InvalidMetadata error.
import type { JsonObject, JsonValue } from '../json.js';

export interface Validator {
  /** Throws InvalidMetadata when `metadata` is not acceptable. `data` is the event's payload (unused by built-ins). */
  validate(metadata: JsonValue, data?: unknown): void;
  /** The configuration that rebuilds this validator through `validatorFromMetadata`. */
  metadata(): JsonObject;
}

export function isValidator(value: unknown): value is Validator {
  const v = value as Validator | null;
  return typeof v === 'object' && v !== null && typeof v.validate === 'function' && typeof v.metadata === 'function';
}

/** The default validator accepts everything. */
export class DefaultValidator implements Validator {
  validate(_metadata: JsonValue, _data?: unknown): void {}
  metadata(): JsonObject {
    return { type: 'default' };
  }
}
