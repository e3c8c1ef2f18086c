// Turning a stored record into a delivered Event: metadata handed over lazily, the data selector and allocator run,
// errors naming the event. One function for the consumer (main thread) and the pool's worker threads.

import type { BackendRecord } from './backend.js';
import type { Serializer } from './components/serializer.js';
import type { DataView } from './data/data-view.js';
import { selectEventData, type DataAllocator, type DataSelector } from './data/selection.js';
import { dataSelectionError, undecodableMetadata } from './event-errors.js';
import { Event, type Acknowledger } from './event.js';
import type { JsonValue } from './json.js';
import { selectorMetadata, type SelectorMetadata } from './lazy-metadata.js';

export function makeEvent<M>(
  owner: Acknowledger, partition: number, rec: BackendRecord, serializer: Serializer,
  selector: DataSelector | undefined, allocator: DataAllocator | undefined,
): Event<M> {
  if (selector === undefined && allocator === undefined) {
    // Nothing here needs the value: the event parses its stored bytes only if `metadata` is read.
    let data: DataView;
    try {
      data = selectEventData(null, rec, undefined, undefined);
    } catch (err) {
      throw dataSelectionError(partition, rec.id, err);
    }
    return new Event<M>(owner, partition, rec, undefined, data, serializer);
  }
  // The selector and allocator are given the value: for JSON text, a proxy that reads the fields they ask for
  // from the text (lib/lazy-metadata.ts); a full parse, if one was needed, is kept by the event.
  const parse = (): JsonValue => {
    try {
      return serializer.deserialize(rec.metadata);
    } catch (err) {
      throw undecodableMetadata(partition, rec.id, err);
    }
  };
  let given: SelectorMetadata;
  if (serializer.storesJsonText === true) given = selectorMetadata(rec.metadata, parse);
  else {
    const value = parse();
    given = { value, parsed: () => value };
  }
  let data: DataView;
  try {
    data = selectEventData(given.value, rec, selector, allocator);
  } catch (err) {
    throw dataSelectionError(partition, rec.id, err);
  }
  return new Event<M>(owner, partition, rec, given.parsed() as M | undefined, data, serializer);
}
