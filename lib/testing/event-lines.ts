// The JSON-lines form of events shared by `diaspora-ctl produce/consume/dump` and the test fixture helper:
// one object per line, `{"metadata": <JSON>, "data": "<base64>", "partition": <n>}` (data and partition optional).
// Consumers write the same shape plus `id` and `timestamp`, so their output can be produced again.

import { DiasporaError, ErrorCode } from '../errors.js';
import type { Event } from '../event.js';
import { isJsonObject, type JsonValue } from '../json.js';

export interface EventLine {
  metadata: JsonValue;
  /** Raw bytes (decoded from base64); absent for metadata-only events. */
  data?: Buffer;
  /** Partition requested by the line, if any. */
  partition?: number;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Parses one line. With `metadataOnly` the whole line is the metadata. BAD_JSON for text that is not JSON,
 * BAD_ARGUMENT for a line of the wrong shape (no metadata, data that is not base64, a bad partition).
 */
export function parseEventLine(line: string, metadataOnly = false): EventLine {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    throw new DiasporaError(ErrorCode.BAD_JSON, `not JSON: ${(err as Error).message}`);
  }
  if (metadataOnly) return { metadata: value as JsonValue };
  if (!isJsonObject(value) || !('metadata' in value)) {
    throw new DiasporaError(ErrorCode.BAD_ARGUMENT, 'expected an object {"metadata": ..., "data": "<base64>"} (use --metadata-only for bare metadata)');
  }
  const out: EventLine = { metadata: value.metadata };
  const data = value.data;
  if (data !== undefined && data !== null) {
    if (typeof data !== 'string' || !BASE64.test(data) || data.length % 4 === 1) {
      throw new DiasporaError(ErrorCode.BAD_ARGUMENT, '"data" must be a base64 string');
    }
    out.data = Buffer.from(data, 'base64');
  }
  const partition = value.partition;
  if (partition !== undefined && partition !== null) {
    if (typeof partition !== 'number' || !Number.isInteger(partition) || partition < 0) {
      throw new DiasporaError(ErrorCode.BAD_ARGUMENT, '"partition" must be a non-negative integer');
    }
    out.partition = partition;
  }
  return out;
}

/** Metadata in the form Producer.push expects: a JS string there means JSON text, so a string value is quoted. */
export function pushableMetadata(metadata: JsonValue): JsonValue {
  return typeof metadata === 'string' ? JSON.stringify(metadata) : metadata;
}

/** One event as a JSON line (without the newline); `withData` false leaves the data out. */
export function formatEventLine(event: Event, withData = true): string {
  const out: Record<string, JsonValue> = {
    partition: event.partition,
    id: event.id,
    timestamp: event.timestamp,
    metadata: event.metadata,
  };
  if (withData) out.data = dataBase64(event);
  return JSON.stringify(out);
}

function dataBase64(event: Event): string {
  const segments = event.data.segments;
  if (segments.length === 1) {
    const s = segments[0];
    return Buffer.from(s.buffer, s.byteOffset, s.byteLength).toString('base64');
  }
  return Buffer.concat(segments.map((s) => Buffer.from(s.buffer, s.byteOffset, s.byteLength))).toString('base64');
}
