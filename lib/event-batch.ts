// EventBatch: consecutive events of one partition, delivered together by consumer.processBatches().
//
// A consumer that handles events in bulk (forwarding, copying, counting) does not need an Event object per event:
// the batch answers by position (`batch.metadataText(i)`, `batch.dataBytes(i)`) straight from the engine's records,
// and one acknowledgement covers the whole batch. `batch.event(i)` still gives the full Event where one is wanted.

import type { Serializer } from './components/serializer.js';
import { DataView } from './data/data-view.js';
import { NO_BYTES } from './data/selection.js';
import { undecodableMetadata } from './event-errors.js';
import type { BackendRun } from './backend.js';
import { Event, type Acknowledger } from './event.js';
import type { Future } from './future.js';
import type { JsonValue } from './json.js';

/**
 * `M`: the metadata type the consumer was opened with (not checked at run time). Internals are private fields, as
 * in Event: the records hold mappings of the segment files, which must not be walked by deep inspection.
 * Positions `i` run from 0 to `length - 1`, in id order: event `i` has id `firstId + i`.
 */
export class EventBatch<M = JsonValue> {
  readonly #owner: Acknowledger;
  /** The engine's records the events are read from: positions [#start, #start + #length) of it. */
  readonly #run: BackendRun;
  readonly #start: number;
  readonly #length: number;
  /** The selected data of each event: the bytes themselves (all data, no selector), or the DataView made. */
  readonly #data: Array<Uint8Array | DataView>;
  readonly #events: Array<Event<M> | undefined>;
  readonly #serializer: Serializer;

  /** @internal built by a consumer's delivery. `events`: Events already made for some positions (else made on demand). */
  constructor(
    owner: Acknowledger,
    /** Index of the partition the events belong to. */
    readonly partition: number,
    run: BackendRun,
    start: number,
    length: number,
    data: Array<Uint8Array | DataView>,
    events: Array<Event<M> | undefined>,
    serializer: Serializer,
  ) {
    this.#owner = owner;
    this.#run = run;
    this.#start = start;
    this.#length = length;
    this.#data = data;
    this.#events = events;
    this.#serializer = serializer;
  }

  /** Number of events in the batch (at least 1). */
  get length(): number {
    return this.#length;
  }

  /** Id of the first event. */
  get firstId(): number {
    return this.#run.id(this.#start);
  }

  /** Id of the last event. */
  get lastId(): number {
    return this.#run.id(this.#start + this.#length - 1);
  }

  /** Id of event `i` (`firstId + i`). */
  id(i: number): number {
    return this.#run.id(this.#at(i));
  }

  /** Commit time of event `i`, ms since the epoch (0 where the format has none). */
  timestamp(i: number): number {
    return this.#run.timestamp(this.#at(i));
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
    const k = this.#at(i);
    if (this.#events[i] !== undefined || this.#serializer.storesJsonText !== true) return this.event(i).metadataText;
    try {
      return this.#run.metadataUtf8(k);
    } catch (err) {
      throw undecodableMetadata(this.partition, this.#run.id(k), err);
    }
  }

  /** The stored metadata bytes of event `i`: a zero-copy, read-only view of the log (see Event.metadataBytes). */
  metadataBytes(i: number): Uint8Array {
    const k = this.#at(i);
    try {
      return this.#run.metadataBytes(k);
    } catch (err) {
      throw undecodableMetadata(this.partition, this.#run.id(k), err);
    }
  }

  /** The data the selector chose for event `i`, as Event.data (the same DataView on every call). */
  data(i: number): DataView {
    this.#at(i);
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
    this.#at(i);
    const d = this.#data[i];
    if (!(d instanceof DataView)) return d;
    const segments = d.segments;
    // Nothing selected (a selector's null): one shared empty array, not a new Buffer per event.
    if (segments.length <= 1) return segments.length === 1 ? segments[0] : NO_BYTES;
    return d.toBuffer();
  }

  /** Event `i` as a full Event (made on first call, then the same object). */
  event(i: number): Event<M> {
    const k = this.#at(i);
    return (this.#events[i] ??= new Event<M>(this.#owner, this.partition, this.#run.record(k), undefined, this.data(i), this.#serializer));
  }

  /**
   * Acknowledges every event of this partition up to event `i` (default: the last of the batch); the future resolves
   * once the position is written, as Event.acknowledge().
   */
  acknowledge(i: number = this.#length - 1): Future<void> {
    return this.#owner.acknowledge(this.partition, this.#run.id(this.#at(i)));
  }

  /** The events as Event objects, in id order. */
  *[Symbol.iterator](): IterableIterator<Event<M>> {
    for (let i = 0; i < this.#length; i++) yield this.event(i);
  }

  /** What JSON.stringify(batch) writes: the partition and the ids it covers. */
  toJSON(): { partition: number; firstId: number; length: number } {
    return { partition: this.partition, firstId: this.firstId, length: this.length };
  }

  /** What console.log(batch) shows: the same fields. */
  [Symbol.for('nodejs.util.inspect.custom')](_depth: number, options: object, inspect: (v: unknown, o: object) => string): string {
    return `EventBatch ${inspect(this.toJSON(), options)}`;
  }

  /** The run position of event `i`; a RangeError (TypeError) for a position that is not one of the batch. */
  #at(i: number): number {
    if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= this.#length) throw badPosition(i, this.#length);
    return this.#start + i;
  }
}

function badPosition(i: unknown, length: number): Error {
  if (typeof i !== 'number') return new TypeError(`an event's position in a batch must be a number, got ${typeof i}`);
  return new RangeError(`position ${i} is not an event of this batch (0 to ${length - 1})`);
}
