// The "schema" validator: metadata must comply to a JSON Schema (draft 7).
import { DiasporaError, ErrorCode, InvalidMetadata } from '../errors.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../json.js';
import { compileJsonSchema, type JsonSchemaCheck } from './json-schema.js';
import type { Validator } from './validator.js';

export class SchemaValidator implements Validator {
  private readonly config: JsonObject;
  private readonly check: JsonSchemaCheck;

  /** `config` is `{type: "schema", schema: <JSON schema>}`. */
  constructor(config: JsonObject) {
    if (!isJsonObject(config)) throw new DiasporaError(ErrorCode.BAD_CONFIG, 'Provided Metadata is not a JSON object');
    if (!Object.hasOwn(config, 'schema')) {
      throw new DiasporaError(
        ErrorCode.BAD_CONFIG,
        'SchemaValidator is expecting a "schema" entry in its configuration',
      );
    }
    this.check = compileJsonSchema(config.schema, 'SchemaValidator');
    this.config = structuredClone({ ...config, type: config.type ?? 'schema' });
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
