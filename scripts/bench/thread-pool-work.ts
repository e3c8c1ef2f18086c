// The CPU-bound processor of the thread-pool benchmark (loaded by name in each worker thread, and inline): a fixed
// amount of hashing per event, `rounds` chained SHA-256 digests of the event's data (rounds from its metadata).
import { createHash } from 'node:crypto';
import type { Event } from '../../lib/index.js';

let sink = 0;

export function hashEvent(event: Event): void {
  const { rounds } = event.metadata as { rounds: number };
  let digest: Uint8Array = event.data.segments[0] ?? new Uint8Array(0);
  for (let r = 0; r < rounds; r++) digest = createHash('sha256').update(digest).update(event.data.segments[0] ?? '').digest();
  sink ^= digest[0];
  event.acknowledge();
}

/** Keeps `sink` observable so the hashing cannot be optimized away. */
export function checksum(): number {
  return sink;
}
