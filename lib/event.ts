// Event: what a consumer delivers — metadata, the selected data, its id and partition, and acknowledge().
//
// Metadata is decoded lazily: an event keeps the stored bytes (a view of the log, like its data) and parses them
// the first time `metadata` is read, so a consumer that forwards `metadataText`/`metadataBytes` never builds the
// value. The stored bytes are checksummed by the engine and were checked as JSON when pushed, so deferring the
// parse moves no error that a healthy log can produce.

import type { Serializer } from './components/serializer.js';
import { undecodableMetadata } from './event-errors.js';
import type { Future } from './future.js';
import type { DataView } from './data/data-view.js';
import { strictUtf8, type JsonValue } from './json.js';

/** The part of a consumer an event needs to acknowledge itself. */
export interface Acknowledger {
  acknowledge(partition: number, id: number): Future<void>;
}

/** The engine's record an event is made of: its id and time, its metadata bytes, and its text if the engine decodes it. */
export interface StoredRecord {
  readonly id: number;
  readonly timestamp: number;
  readonly metadata: Uint8Array;
  /** The bytes decoded as UTF-8 (throws for invalid UTF-8), where the engine does it cheaper than a view + decode. */
  metadataUtf8?(): string;
}

/** @internal the engine's record an event was made of (a batch of events handed back to delivery reads it). */
export let storedRecordOf: (event: Event<unknown>) => StoredRecord;

/** Marks metadata that is not parsed yet. */
const UNPARSED: unique symbol = Symbol('unparsed');

/**
 * `M`: the metadata type the consumer was opened with (`topic.consumer<M>()`), not checked at run time.
 * Internals are private fields (#): an event holds the engine's record, whose mapping of the segment file reaches
 * past the file's end (headroom for appends), and the consumer. As own properties they were walked by anything
 * that inspects an object deeply: JSON.stringify (circular), test frameworks formatting or comparing values (a
 * SIGBUS once they touched the mapping past the file's end). `console.log(event)` and `JSON.stringify(event)` show
 * the event's fields instead.
 */
export class Event<M = JsonValue> {
  static {
    storedRecordOf = (event) => event.#stored;
  }

  readonly #owner: Acknowledger;
  readonly #stored: StoredRecord;
  readonly #serializer: Serializer;
  #parsed: M | typeof UNPARSED;
  #text: string | undefined;

  /**
   * @internal built by a consumer from the engine's record (kept, not copied: one object less per event), with the
   * metadata value when it was parsed already (else parsed from the record's bytes on first read).
   */
  constructor(
    owner: Acknowledger,
    /** Index of the partition the event belongs to. */
    readonly partition: number,
    stored: StoredRecord,
    metadata: M | undefined,
    /** The bytes the data selector chose: zero-copy slices, or the allocator's memory filled in. */
    readonly data: DataView,
    serializer: Serializer,
  ) {
    this.#owner = owner;
    this.#stored = stored;
    this.#serializer = serializer;
    this.#parsed = metadata === undefined ? UNPARSED : metadata;
    this.#text = undefined;
  }

  /** Id of the event within its partition (dense, from 0). */
  get id(): number {
    return this.#stored.id;
  }

  /** Commit time, ms since the epoch (0 where the format has none). */
  get timestamp(): number {
    return this.#stored.timestamp;
  }

  /** The metadata as a JSON value, parsed from the stored bytes on first read (then the same object every time). */
  get metadata(): M {
    if (this.#parsed !== UNPARSED) return this.#parsed;
    try {
      this.#parsed = this.#serializer.deserialize(this.#stored.metadata) as M;
    } catch (err) {
      throw undecodableMetadata(this.partition, this.id, err);
    }
    return this.#parsed;
  }

  /**
   * The metadata as its serializer stored it (compact JSON text as UTF-8 for the default and schema serializers;
   * the text as pushed when it was pushed as text). Zero-copy: a read-only view of the log, valid as long as the
   * event is referenced; copy it to keep it changed.
   */
  get metadataBytes(): Uint8Array {
    try {
      return this.#stored.metadata;
    } catch (err) {
      // The engine re-checks its files when the bytes are touched (e.g. a .meta file truncated since the read).
      throw undecodableMetadata(this.partition, this.id, err);
    }
  }

  /**
   * The metadata as JSON text, without parsing it where the serializer stores JSON text (the default and schema
   * serializers): the stored text itself. Otherwise JSON.stringify of `metadata`.
   */
  get metadataText(): string {
    if (this.#text !== undefined) return this.#text;
    if (this.#serializer.storesJsonText === true) {
      try {
        const stored = this.#stored;
        this.#text = stored.metadataUtf8 !== undefined ? stored.metadataUtf8() : strictUtf8.decode(stored.metadata);
      } catch (err) {
        throw undecodableMetadata(this.partition, this.id, err);
      }
    } else this.#text = JSON.stringify(this.metadata as unknown);
    return this.#text;
  }

  /**
   * Records that every event of this partition up to this one is processed by this consumer name.
   * The future resolves once the position is written to the offsets store (see the README's durability table).
   */
  acknowledge(): Future<void> {
    return this.#owner.acknowledge(this.partition, this.id);
  }

  /** What JSON.stringify(event) writes: partition, id, timestamp, metadata and the size of the data selected. */
  toJSON(): { partition: number; id: number; timestamp: number; metadata: M; dataSize: number } {
    return { partition: this.partition, id: this.id, timestamp: this.timestamp, metadata: this.metadata, dataSize: this.data.size };
  }

  /** What console.log(event) and util.inspect show: the same fields (an unreadable metadata as its error). */
  [Symbol.for('nodejs.util.inspect.custom')](_depth: number, options: object, inspect: (v: unknown, o: object) => string): string {
    let metadata: unknown;
    try {
      metadata = this.metadata;
    } catch (err) {
      metadata = `<unreadable: ${(err as Error).message}>`;
    }
    const shown = { partition: this.partition, id: this.id, timestamp: this.timestamp, metadata, dataSize: this.data.size };
    return `Event ${inspect(shown, options)}`;
  }
}
