// The "schema" validator: metadata must comply to a JSON Schema (draft 7).
import { InvalidMetadata } from '../errors.js';
import type { JsonObject, JsonValue } from '../json.js';
import { readSchemaConfig, type JsonSchemaCheck } from './json-schema.js';
import type { Validator } from './validator.js';

export class SchemaValidator implements Validator {
  private readonly config: JsonObject;
  private readonly check: JsonSchemaCheck;

  /** `config` is `{type: "schema", schema: <JSON schema>}`. */
  constructor(config: JsonObject) {
    ({ config: this.config, check: this.check } = readSchemaConfig(config, 'SchemaValidator'));
  }

  validate(metadata: JsonValue, _data?: unknown): void {
    const errors = this.check(metadata);
    if (errors.length > 0) {
      throw new InvalidMetadata(`Metadata does not comply to required schema:\n${errors.join('\n')}`, { errors });
    }
  }

  metadata(): JsonObject {
    return structuredClone(this.config);
  }
}
