// EventBatch: consecutive events of one partition, delivered together by consumer.processBatches().
//
// A consumer that handles events in bulk (forwarding, copying, counting) does not need an Event object per event:
// the batch answers by position (`batch.metadataText(i)`, `batch.dataBytes(i)`) straight from the engine's records,
// and one acknowledgement covers the whole batch. `batch.event(i)` still gives the full Event where one is wanted.

import type { Serializer } from './components/serializer.js';
import { DataView } from './data/data-view.js';
import { NO_BYTES } from './data/selection.js';
import { undecodableMetadata } from './event-errors.js';
import { Event, type Acknowledger, type StoredRecord } from './event.js';
import type { Future } from './future.js';
import { strictUtf8, type JsonValue } from './json.js';

/**
 * `M`: the metadata type the consumer was opened with (not checked at run time). Internals are private fields, as
 * in Event: the records hold mappings of the segment files, which must not be walked by deep inspection.
 * Positions `i` run from 0 to `length - 1`, in id order: event `i` has id `firstId + i`.
 */
export class EventBatch<M = JsonValue> {
  readonly #owner: Acknowledger;
  readonly #records: readonly StoredRecord[];
  /** The selected data of each event: the bytes themselves (all data, no selector), or the DataView made. */
  readonly #data: Array<Uint8Array | DataView>;
  readonly #events: Array<Event<M> | undefined>;
  readonly #serializer: Serializer;

  /** @internal built by a consumer's delivery. `events`: Events already made for some positions (else made on demand). */
  constructor(
    owner: Acknowledger,
    /** Index of the partition the events belong to. */
    readonly partition: number,
    records: readonly StoredRecord[],
    data: Array<Uint8Array | DataView>,
    events: Array<Event<M> | undefined>,
    serializer: Serializer,
  ) {
    this.#owner = owner;
    this.#records = records;
    this.#data = data;
    this.#events = events;
    this.#serializer = serializer;
  }

  /** Number of events in the batch (at least 1). */
  get length(): number {
    return this.#records.length;
  }

  /** Id of the first event. */
  get firstId(): number {
    return this.#records[0].id;
  }

  /** Id of the last event. */
  get lastId(): number {
    return this.#records[this.#records.length - 1].id;
  }

  /** Id of event `i` (`firstId + i`). */
  id(i: number): number {
    return this.#record(i).id;
  }

  /** Commit time of event `i`, ms since the epoch (0 where the format has none). */
  timestamp(i: number): number {
    return this.#record(i).timestamp;
  }

  /** The metadata of event `i` as a JSON value (parsed on first read, then the same object: see Event.metadata). */
  metadata(i: number): M {
    return this.event(i).metadata;
  }

  /**
   * The metadata of event `i` as JSON text, without parsing it where the serializer stores JSON text (the default
   * and schema serializers): the stored text itself, a new string each call. Otherwise JSON.stringify of `metadata(i)`.
   */
  metadataText(i: number): string {
    const rec = this.#record(i);
    const known = this.#events[i];
    if (known !== undefined || this.#serializer.storesJsonText !== true) return this.event(i).metadataText;
    try {
      return rec.metadataUtf8 !== undefined ? rec.metadataUtf8() : strictUtf8.decode(rec.metadata);
    } catch (err) {
      throw undecodableMetadata(this.partition, rec.id, err);
    }
  }

  /** The stored metadata bytes of event `i`: a zero-copy, read-only view of the log (see Event.metadataBytes). */
  metadataBytes(i: number): Uint8Array {
    const rec = this.#record(i);
    try {
      return rec.metadata;
    } catch (err) {
      throw undecodableMetadata(this.partition, rec.id, err);
    }
  }

  /** The data the selector chose for event `i`, as Event.data (the same DataView on every call). */
  data(i: number): DataView {
    this.#record(i);
    const d = this.#data[i];
    if (d instanceof DataView) return d;
    const view = d.length === 0 ? DataView.EMPTY : new DataView(d);
    this.#data[i] = view;
    return view;
  }

  /**
   * The data chosen for event `i` as one byte array: zero-copy (a view of the log, or the allocator's memory) when the
   * selection is one piece, which it is without a selector; a copy when it is several pieces.
   */
  dataBytes(i: number): Uint8Array {
    this.#record(i);
    const d = this.#data[i];
    if (!(d instanceof DataView)) return d;
    const segments = d.segments;
    // Nothing selected (a selector's null): one shared empty array, not a new Buffer per event.
    if (segments.length <= 1) return segments.length === 1 ? segments[0] : NO_BYTES;
    return d.toBuffer();
  }

  /** Event `i` as a full Event (made on first call, then the same object). */
  event(i: number): Event<M> {
    const rec = this.#record(i);
    return (this.#events[i] ??= new Event<M>(this.#owner, this.partition, rec, undefined, this.data(i), this.#serializer));
  }

  /**
   * Acknowledges every event of this partition up to event `i` (default: the last of the batch); the future resolves
   * once the position is written, as Event.acknowledge().
   */
  acknowledge(i: number = this.#records.length - 1): Future<void> {
    return this.#owner.acknowledge(this.partition, this.#record(i).id);
  }

  /** The events as Event objects, in id order. */
  *[Symbol.iterator](): IterableIterator<Event<M>> {
    for (let i = 0; i < this.#records.length; i++) yield this.event(i);
  }

  /** What JSON.stringify(batch) writes: the partition and the ids it covers. */
  toJSON(): { partition: number; firstId: number; length: number } {
    return { partition: this.partition, firstId: this.firstId, length: this.length };
  }

  /** What console.log(batch) shows: the same fields. */
  [Symbol.for('nodejs.util.inspect.custom')](_depth: number, options: object, inspect: (v: unknown, o: object) => string): string {
    return `EventBatch ${inspect(this.toJSON(), options)}`;
  }

  #record(i: number): StoredRecord {
    const rec = this.#records[i];
    if (rec === undefined || typeof i !== 'number' || !Number.isInteger(i)) throw badPosition(i, this.#records.length);
    return rec;
  }
}

function badPosition(i: unknown, length: number): Error {
  if (typeof i !== 'number') return new TypeError(`an event's position in a batch must be a number, got ${typeof i}`);
  return new RangeError(`position ${i} is not an event of this batch (0 to ${length - 1})`);
}
