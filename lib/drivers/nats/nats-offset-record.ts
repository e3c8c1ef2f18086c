// The values of the offsets bucket: a consumer's position in a partition (`<topic>.<consumer>.<p>`) and the record
// of an unfinished multi-partition reset (`<topic>.<consumer>.reset`, nats-reset.ts). Anything else found under a
// position key (written by hand or by another tool) is CORRUPTION naming the bucket and key, never read as "nothing
// acknowledged" (the consumer would re-read the whole partition) nor as a position of the wrong type.

import { DiasporaError, ErrorCode } from '../../errors.js';

/** A position as stored: the last acknowledged id (null: nothing yet). `reset`: the id of the reset that wrote it. */
export interface OffsetRecord {
  consumer: string;
  partition: number;
  last: number | null;
  reset?: string;
}

/** A reset's record: the positions it moves to, put in place by whoever next holds each partition's claim. */
export interface ResetRecord {
  version: 1;
  consumer: string;
  id: string;
  moves: Array<{ partition: number; last: number | null }>;
}

/** Where a user finds a key: `<bucket>/<key>` (`nats kv get <bucket> <key>` shows it). */
export const kvLocation = (bucket: string, key: string): string => `${bucket}/${key}`;

const REPAIR = "move the consumer with topic.resetConsumer or 'diaspora-ctl consumers reset', which rewrites it";

const isId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** The last acknowledged id stored in `text` for `consumer` on `partition`, or what is wrong with it (`damaged`). */
export function readOffsetValue(text: string, consumer: string, partition: number): { last: number | null } | { damaged: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { damaged: `not JSON (${JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}...` : text)})` };
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return { damaged: `not an object (${JSON.stringify(raw)})` };
  const r = raw as Record<string, unknown>;
  if (r.consumer !== consumer) return { damaged: `its "consumer" is ${JSON.stringify(r.consumer)}, not ${JSON.stringify(consumer)}` };
  if (r.partition !== partition) return { damaged: `its "partition" is ${JSON.stringify(r.partition)}, not ${partition}` };
  if (r.last !== null && !isId(r.last)) return { damaged: `its "last" is ${JSON.stringify(r.last)}, not an event id or null` };
  if (r.reset !== undefined && typeof r.reset !== 'string') return { damaged: `its "reset" is ${JSON.stringify(r.reset)}, not a string` };
  return { last: r.last };
}

export function damagedOffsetMessage(location: string, consumer: string, partition: number, topic: string, problem: string): string {
  return `the position of consumer ${JSON.stringify(consumer)} on partition ${partition} of topic "${topic}" (KV ${location}) is damaged: ${problem}; ${REPAIR}`;
}

/** The "consumer" field of a stored value, if it is a string (a hashed key token keeps no name). */
export function consumerFieldOf(text: string): string | null {
  try {
    const c = (JSON.parse(text) as { consumer?: unknown } | null)?.consumer;
    return typeof c === 'string' ? c : null;
  } catch {
    return null;
  }
}

/** The position in `text`, or CORRUPTION naming the key and what is wrong (a consumer opening the partition). */
export function parseOffsetValue(text: string, consumer: string, partition: number, topic: string, location: string): number | null {
  const v = readOffsetValue(text, consumer, partition);
  if ('damaged' in v) {
    throw new DiasporaError(ErrorCode.CORRUPTION, damagedOffsetMessage(location, consumer, partition, topic, v.damaged), { partition, path: location });
  }
  return v.last;
}

export function encodeOffset(consumer: string, partition: number, last: number | null, reset?: string): string {
  const r: OffsetRecord = { consumer, partition, last };
  if (reset !== undefined) r.reset = reset;
  return JSON.stringify(r);
}

/** A reset record; CORRUPTION (naming the key and the way out) for anything this code did not write. */
export function parseResetRecord(text: string, consumer: string, numPartitions: number, location: string): ResetRecord {
  const damaged = (why: string): DiasporaError =>
    new DiasporaError(
      ErrorCode.CORRUPTION,
      `the record of a reset of consumer ${JSON.stringify(consumer)} (KV ${location}) is damaged (${why}): the reset was interrupted and cannot be finished; delete the key (nats kv del ${location.replace('/', ' ')}), then reset the consumer`,
      { path: location },
    );
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw damaged('not JSON');
  }
  const r = raw as Partial<ResetRecord> | null;
  if (r === null || typeof r !== 'object' || r.version !== 1 || r.consumer !== consumer || typeof r.id !== 'string' || !Array.isArray(r.moves)) {
    throw damaged('not a version 1 record of this consumer');
  }
  const seen = new Set<number>();
  for (const m of r.moves as unknown[]) {
    const mv = m as { partition?: unknown; last?: unknown } | null;
    const p = mv?.partition;
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p >= numPartitions || seen.has(p)) throw damaged(`bad partition ${JSON.stringify(p)}`);
    if (mv!.last !== null && !isId(mv!.last)) throw damaged(`bad position ${JSON.stringify(mv!.last)}`);
    seen.add(p);
  }
  return r as ResetRecord;
}
