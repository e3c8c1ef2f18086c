// Serializer: turns an event's metadata into the bytes stored in the log, and back.
import { DiasporaError, ErrorCode } from '../errors.js';
import { strictUtf8, type JsonObject, type JsonValue } from '../json.js';

export interface Serializer {
  /** Encodes one metadata value. Throws TypeError for values JSON cannot represent (undefined, BigInt, cycles). */
  serialize(metadata: JsonValue): Uint8Array;
  /** Decodes bytes produced by `serialize` (possibly a view into a memory-mapped file). Throws BAD_JSON. */
  deserialize(bytes: Uint8Array): JsonValue;
  /** The configuration that rebuilds this serializer through `serializerFromMetadata`. */
  metadata(): JsonObject;
  /**
   * Optional: true when the stored bytes are the metadata's JSON text in UTF-8, so that `Event.metadataText` can
   * hand them over without parsing. Custom serializers omit it (then the text is JSON.stringify of the value).
   */
  readonly storesJsonText?: boolean;
}

export function isSerializer(value: unknown): value is Serializer {
  const s = value as Serializer | null;
  return (
    typeof s === 'object' && s !== null && typeof s.serialize === 'function' &&
    typeof s.deserialize === 'function' && typeof s.metadata === 'function'
  );
}

/** Compact JSON text as UTF-8: the wire format of the default (and schema) serializer. */
export function encodeJsonMetadata(metadata: JsonValue): Uint8Array {
  let text: string | undefined;
  try {
    text = JSON.stringify(metadata);
  } catch (err) {
    // BigInt and circular structures land here.
    throw new TypeError(`Cannot serialize metadata: ${(err as Error).message}`, { cause: err });
  }
  // JSON.stringify returns undefined (no throw) for undefined, functions and symbols.
  if (text === undefined) throw new TypeError(`Cannot serialize metadata: a ${typeof metadata} is not a JSON value`);
  return Buffer.from(text, 'utf8');
}


/** Parses UTF-8 JSON bytes without copying them first (they may be a slice of a mapped file). */
export function decodeJsonMetadata(bytes: Uint8Array): JsonValue {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('Serializer.deserialize expects a Uint8Array');
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch (err) {
    throw new DiasporaError(ErrorCode.BAD_JSON, 'Could not deserialize Serializer metadata: invalid UTF-8', {
      cause: err,
    });
  }
  try {
    return JSON.parse(text) as JsonValue;
  } catch (err) {
    throw new DiasporaError(
      ErrorCode.BAD_JSON,
      `Could not deserialize Serializer metadata: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

/** The default serializer: compact JSON, UTF-8, no framing (the log stores the length). */
export class DefaultSerializer implements Serializer {
  readonly storesJsonText = true;
  serialize(metadata: JsonValue): Uint8Array {
    return encodeJsonMetadata(metadata);
  }
  deserialize(bytes: Uint8Array): JsonValue {
    return decodeJsonMetadata(bytes);
  }
  metadata(): JsonObject {
    return { type: 'default' };
  }
}
