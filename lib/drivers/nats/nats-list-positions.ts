// The listing of a NATS topic's consumer positions (listConsumers, `diaspora-ctl topic describe|consumers`). A value
// that is not a position (written by hand or by another tool) is listed as damaged (PositionDamage naming the bucket
// and key) rather than failing the listing: the listing is where a user looks to find out what is wrong, and every
// other position is still worth seeing. A reset a crash interrupted is listed as it will be once finished.

import type { ConsumerPosition, PositionDamage } from '../../backend.js';
import { decodeNameToken, encodeNameToken } from './nats-names.js';
import { consumerFieldOf, damagedOffsetMessage, kvLocation, readOffsetValue } from './nats-offset-record.js';
import { pendingPositions, type ResetScope } from './nats-reset.js';

type Entry = { partition: number; lastAcknowledged: number | null; damaged?: PositionDamage };

/**
 * The consumer name a key token stands for: decoded from the token, else (a shortened token) the name the value
 * holds if it is the one the token was made from, else the token itself (the value is then reported damaged).
 */
function nameOf(token: string, text: string): string {
  const decoded = decodeNameToken(token);
  if (decoded !== null) return decoded;
  const field = consumerFieldOf(text);
  return field !== null && encodeNameToken(field) === token ? field : token;
}

export async function listPositions(s: ResetScope, filter: string): Promise<ConsumerPosition[]> {
  const keys: string[] = [];
  await s.retry('list consumers', async () => {
    keys.length = 0;
    for await (const k of await s.kv.keys(filter)) keys.push(k);
  });
  const byName = new Map<string, Map<number, Entry>>();
  const pending = new Map<string, Map<number, number | null>>();
  const entriesOf = (name: string): Map<number, Entry> => {
    let m = byName.get(name);
    if (!m) byName.set(name, (m = new Map()));
    return m;
  };
  for (const k of keys) {
    const parts = k.split('.');
    if (parts.length !== 3) continue; // not a key this driver writes
    const [, token, last] = parts as [string, string, string];
    const isReset = last === 'reset';
    if (!isReset && !/^(0|[1-9][0-9]{0,8})$/.test(last)) continue;
    const e = await s.retry('list consumers', () => s.kv.get(k));
    if (!e || e.operation !== 'PUT') continue;
    const text = e.string();
    const name = nameOf(token, text);
    const location = kvLocation(s.bucket, k);
    if (isReset) {
      pending.set(name, pendingPositions(text, name, s.numPartitions, location));
      entriesOf(name);
      continue;
    }
    const partition = Number(last);
    const v = readOffsetValue(text, name, partition);
    entriesOf(name).set(
      partition,
      'damaged' in v
        ? { partition, lastAcknowledged: null, damaged: { code: 'CORRUPTION', file: location, message: damagedOffsetMessage(location, name, partition, s.topic, v.damaged) } }
        : { partition, lastAcknowledged: v.last },
    );
  }
  // What an interrupted reset recorded replaces what its claim holders have not rewritten yet.
  for (const [name, moves] of pending) {
    for (const [partition, lastAcknowledged] of moves) entriesOf(name).set(partition, { partition, lastAcknowledged });
  }
  return [...byName.entries()]
    .filter(([, m]) => m.size > 0)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([name, m]) => ({ name, partitions: [...m.values()].sort((a, b) => a.partition - b.partition) }));
}
