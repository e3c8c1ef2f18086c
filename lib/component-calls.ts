// A topic's components called for one push. Their methods are synchronous: a promise (any thenable) returned by one
// is a programming error of the component, refused with a TypeError for that push, after a handler is attached to
// it so that its rejection is never unhandled (which would end the process). A serializer's output is checked here,
// not by the engine, so that every driver refuses (or stores) the same events.
import type { PartitionSelector } from './components/partition-selector.js';
import type { Serializer } from './components/serializer.js';
import type { Validator } from './components/validator.js';
import type { JsonValue } from './json.js';

function refuseThenable(result: unknown, what: string): void {
  if ((typeof result !== 'object' && typeof result !== 'function') || result === null) return;
  if (typeof (result as PromiseLike<unknown>).then !== 'function') return;
  Promise.resolve(result as PromiseLike<unknown>).catch(() => undefined);
  throw new TypeError(`${what} returned a promise: components are synchronous (a validator throws InvalidMetadata to refuse an event)`);
}

export function validate(validator: Validator, metadata: JsonValue, data: unknown): void {
  refuseThenable(validator.validate(metadata, data) as unknown, 'the validator\'s validate()');
}

export function selectPartition(selector: PartitionSelector, metadata: JsonValue, requested: number | undefined): number {
  const p = selector.selectPartitionFor(metadata, requested);
  refuseThenable(p, 'the partition selector\'s selectPartitionFor()');
  return p;
}

/** The serializer's output for `metadata`: TypeError unless it is a Uint8Array (as the engines require). */
export function serialize(serializer: Serializer, metadata: JsonValue): Uint8Array {
  const bytes: unknown = serializer.serialize(metadata);
  refuseThenable(bytes, 'the serializer\'s serialize()');
  if (!(bytes instanceof Uint8Array)) {
    const got = bytes === null ? 'null' : typeof bytes === 'object' ? (Object.getPrototypeOf(bytes)?.constructor?.name ?? 'an object') : typeof bytes;
    throw new TypeError(`the serializer's serialize() must return a Uint8Array, got ${got}`);
  }
  return bytes;
}
