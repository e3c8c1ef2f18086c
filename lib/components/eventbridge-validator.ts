// The "eventbridge" validator: metadata must match an eventbridge pattern (see eventbridge.ts).
import { DiasporaError, ErrorCode, InvalidMetadata } from '../errors.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../json.js';
import { compileEventbridgePattern } from './eventbridge.js';
import type { Validator } from './validator.js';

export class EventbridgeValidator implements Validator {
  private readonly config: JsonObject;
  private readonly matches: (metadata: JsonValue) => boolean;

  /** `config` is `{type: "eventbridge", schema: <pattern object>}`. */
  constructor(config: JsonObject) {
    if (!isJsonObject(config)) throw new DiasporaError(ErrorCode.BAD_CONFIG, 'Provided Metadata is not a JSON object');
    if (!Object.hasOwn(config, 'schema')) {
      throw new DiasporaError(
        ErrorCode.BAD_CONFIG,
        'Metadata object does not contain a "schema" field for EventbridgeValidator',
      );
    }
    if (!isJsonObject(config.schema)) {
      throw new DiasporaError(
        ErrorCode.BAD_CONFIG,
        '"schema" field in EventbridgeValidator configuration should be an object',
      );
    }
    this.matches = compileEventbridgePattern(config.schema);
    this.config = structuredClone({ ...config, type: config.type ?? 'eventbridge' });
  }

  validate(metadata: JsonValue, _data?: unknown): void {
    if (!this.matches(metadata)) throw new InvalidMetadata('Metadata object does not satisfy eventbridge pattern');
  }

  metadata(): JsonObject {
    return structuredClone(this.config);
  }
}
