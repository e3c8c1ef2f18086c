// The JSON-lines form of events shared by `diaspora-ctl produce/consume/dump` and the test fixture helper:
// one object per line, `{"metadata": <JSON>, "data": "<base64>", "partition": <n>}` (data and partition optional).
// Consumers write the same shape plus `id` and `timestamp`, so their output can be produced again.

import { DiasporaError, ErrorCode } from '../errors.js';
import type { Event } from '../event.js';
import type { EventBatch } from '../event-batch.js';
import { isJsonObject, type JsonValue } from '../json.js';
import { isJsonSyntax } from '../json-text.js';

export interface EventLine {
  metadata: JsonValue;
  /** Raw bytes (decoded from base64); absent for metadata-only events. */
  data?: Buffer;
  /** Partition requested by the line, if any. */
  partition?: number;
}

/** The keys of a line: those read, and the id and timestamp consume and dump write (so their output can be replayed). */
const LINE_KEYS = new Set(['metadata', 'data', 'partition', 'id', 'timestamp']);

/** A character that base64 data never holds ('=' is checked apart: padding, at the end only). */
const NOT_BASE64 = /[^A-Za-z0-9+/=]/;

/** Standard base64 (RFC 4648 section 4) with or without its padding. */
function isBase64(s: string): boolean {
  if (s.length % 4 === 1 || NOT_BASE64.test(s)) return false;
  // One unanchored scan is faster than an anchored pattern over a long string; then the '=' must end it, at most two.
  const pad = s.indexOf('=');
  return pad === -1 || pad === s.length - 1 || (pad === s.length - 2 && s.charCodeAt(s.length - 1) === 0x3d);
}

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
  if (!isJsonObject(value)) {
    throw new DiasporaError(ErrorCode.BAD_ARGUMENT, 'expected an object {"metadata": ..., "data": "<base64>"} (use --metadata-only for bare metadata)');
  }
  // A misspelt key ("Data", "partiton") would otherwise silently drop the data or the partition asked for.
  for (const key of Object.keys(value)) {
    if (!LINE_KEYS.has(key)) {
      throw new DiasporaError(ErrorCode.BAD_ARGUMENT, `unknown key "${key}" (an event line has metadata, data, partition, and the id and timestamp consume writes, which are ignored)`);
    }
  }
  if (!('metadata' in value)) {
    throw new DiasporaError(ErrorCode.BAD_ARGUMENT, 'no "metadata" key: expected {"metadata": ..., "data": "<base64>"} (use --metadata-only for bare metadata)');
  }
  const out: EventLine = { metadata: value.metadata };
  const data = value.data;
  if (data !== undefined && data !== null) {
    if (typeof data !== 'string' || !isBase64(data)) {
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

/**
 * One event as a JSON line (without the newline); `withData` false leaves the data out. The metadata is written as the
 * event's JSON text (for the default serializer the stored text itself: nothing is parsed or re-serialized) when that
 * text is one line of valid JSON, else as JSON.stringify of the value.
 */
export function formatEventLine(event: Event, withData = true): string {
  const metadata = metadataJson(event.metadataText, event.metadataBytes, () => event.metadata);
  return formatLine(event.partition, event.id, event.timestamp, metadata, withData ? dataBase64(event.data.segments) : null);
}

/**
 * @internal Event `i` of a batch as formatEventLine writes it, read by position (no Event is made unless the stored
 * text cannot be written as it is): what `diaspora-ctl consume` prints.
 */
export function formatBatchLine(batch: EventBatch, i: number, withData = true): string {
  const metadata = metadataJson(batch.metadataText(i), batch.metadataBytes(i), () => batch.metadata(i) as JsonValue);
  return formatLine(batch.partition, batch.id(i), batch.timestamp(i), metadata, withData ? dataBase64Of(batch.dataBytes(i)) : null);
}

function formatLine(partition: number, id: number, timestamp: number, metadata: string, data: string | null): string {
  const head = `{"partition":${partition},"id":${id},"timestamp":${timestamp},"metadata":${metadata}`;
  return data === null ? `${head}}` : `${head},"data":"${data}"}`;
}

/** The metadata's JSON for a line: its text as it is when that is one line of valid JSON, else the value's JSON. */
function metadataJson(text: string, bytes: Uint8Array, value: () => JsonValue): string {
  // A line break can only be whitespace between tokens (JSON strings hold none), but it would end the line. Stored
  // text was checked when pushed and its checksum when read, but a reference-format topic has no checksums: text that
  // is not JSON goes the value's way, whose error (CORRUPTION naming the event) is the one to report. The check runs
  // on the stored bytes (no re-encoding of the text): reading the text proved them valid UTF-8.
  if (!text.includes('\n') && !text.includes('\r') && isJsonSyntax(bytes)) return text;
  return JSON.stringify(value());
}

function dataBase64(segments: readonly Uint8Array[]): string {
  if (segments.length === 1) return dataBase64Of(segments[0]);
  return Buffer.concat(segments.map((s) => Buffer.from(s.buffer, s.byteOffset, s.byteLength))).toString('base64');
}

function dataBase64Of(s: Uint8Array): string {
  return Buffer.from(s.buffer, s.byteOffset, s.byteLength).toString('base64');
}
