// The "schema" serializer: same wire format as the default one (as in the reference, whose schema encoder is
// disabled), but metadata is checked against the schema when serialized instead of the schema being ignored.
import { InvalidMetadata } from '../errors.js';
import type { JsonObject, JsonValue } from '../json.js';
import { readSchemaConfig, type JsonSchemaCheck } from './json-schema.js';
import { decodeJsonMetadata, encodeJsonMetadata, type Serializer } from './serializer.js';

export class SchemaSerializer implements Serializer {
  private readonly config: JsonObject;
  private readonly check: JsonSchemaCheck;
  readonly storesJsonText = true;

  /** `config` is `{type: "schema", schema: <JSON schema>}`. */
  constructor(config: JsonObject) {
    ({ config: this.config, check: this.check } = readSchemaConfig(config, 'SchemaSerializer'));
  }

  serialize(metadata: JsonValue): Uint8Array {
    const errors = this.check(metadata);
    if (errors.length > 0) {
      throw new InvalidMetadata(`Metadata does not comply to the serializer's schema:\n${errors.join('\n')}`, {
        errors,
      });
    }
    return encodeJsonMetadata(metadata);
  }

  /** Not re-checked on read: stored events stay readable even if they predate a schema change. */
  deserialize(bytes: Uint8Array): JsonValue {
    return decodeJsonMetadata(bytes);
  }

  metadata(): JsonObject {
    return structuredClone(this.config);
  }
}
