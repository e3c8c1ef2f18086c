// Turning a stored record into a delivered Event: metadata handed over lazily, the data selector and allocator run,
// errors naming the event. One function for the consumer (main thread), its batches and the pool's worker threads.

import type { BackendRecord } from './backend.js';
import type { Serializer } from './components/serializer.js';
import type { DataView } from './data/data-view.js';
import { selectEventData, type DataAllocator, type DataSelector } from './data/selection.js';
import { dataSelectionError, undecodableMetadata } from './event-errors.js';
import { Event, type Acknowledger } from './event.js';
import type { JsonValue } from './json.js';
import { selectorMetadata, type MetadataSource } from './lazy-metadata.js';

/** What selectRecordData() found for one event: its data, and its metadata value if the selection parsed it. */
export interface RecordSelection {
  data: DataView;
  parsed: JsonValue | undefined;
}

/** A record's metadata as its selector reads it (one object per event; see lazy-metadata.ts). */
class RecordMetadata implements MetadataSource {
  full: JsonValue | undefined = undefined;
  constructor(
    readonly bytes: Uint8Array,
    private readonly record: BackendRecord,
    private readonly serializer: Serializer,
    private readonly partition: number,
  ) {}

  parse(): JsonValue {
    try {
      return this.serializer.deserialize(this.record.metadata);
    } catch (err) {
      throw undecodableMetadata(this.partition, this.record.id, err);
    }
  }
}

/**
 * Runs the selector and allocator on `rec` and writes the outcome into `into` (a caller's reusable object: nothing is
 * allocated for the answer). The selector and allocator are given the value: for JSON text, a proxy that reads the
 * fields they ask for from the text (lib/lazy-metadata.ts); a full parse, if one was needed, is in `into.parsed`.
 */
export function selectRecordData(
  partition: number, rec: BackendRecord, serializer: Serializer, selector: DataSelector | undefined,
  allocator: DataAllocator | undefined, into: RecordSelection,
): void {
  let data: DataView;
  let parsed: JsonValue | undefined;
  if (selector === undefined && allocator === undefined) {
    try {
      data = selectEventData(null, rec, undefined, undefined);
    } catch (err) {
      throw dataSelectionError(partition, rec.id, err);
    }
  } else {
    const source = new RecordMetadata(rec.metadata, rec, serializer, partition);
    const value = serializer.storesJsonText === true ? selectorMetadata(source) : (source.full = source.parse());
    try {
      data = selectEventData(value, rec, selector, allocator);
    } catch (err) {
      throw dataSelectionError(partition, rec.id, err);
    }
    parsed = source.full;
  }
  // Written last, after the selector and allocator ran (they could make events themselves, e.g. through pull()).
  into.data = data;
  into.parsed = parsed;
}

const scratch: RecordSelection = { data: undefined as unknown as DataView, parsed: undefined };

export function makeEvent<M>(
  owner: Acknowledger, partition: number, rec: BackendRecord, serializer: Serializer,
  selector: DataSelector | undefined, allocator: DataAllocator | undefined,
): Event<M> {
  selectRecordData(partition, rec, serializer, selector, allocator, scratch);
  // Nothing parsed (no selector, or one that read plain fields): the event parses its bytes only if `metadata` is read.
  return new Event<M>(owner, partition, rec, scratch.parsed as M | undefined, scratch.data, serializer);
}
