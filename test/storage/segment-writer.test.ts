// The writer's metadata paths: metadata lying back to back in one buffer (a producer's arena) is written as it lies,
// with one write and no staging copy; anything else is staged or gathered. Both must store the same bytes, with each
// event's own metadata CRC in its index entry.
import test from 'ava';
import { PartitionLog } from '../../storage/partition-log.js';
import type { AppendEvent } from '../../storage/types.js';
import { metadataBackToBack } from '../../storage/write-pieces.js';
import { tempDir } from '../temp-dir.js';

const text = (i: number): string => `{"i":${i},"pad":"${'p'.repeat((i * 13) % 90)}"}`;

/** Metadata of events [from, to) back to back in one fresh buffer (what MetadataArena hands over). */
function arenaEvents(from: number, to: number): { events: AppendEvent[]; arena: Buffer } {
  const arena = Buffer.alloc(64 * 1024);
  const events: AppendEvent[] = [];
  let at = 0;
  for (let i = from; i < to; i++) {
    const n = arena.write(text(i), at);
    events.push({ metadata: new Uint8Array(arena.buffer, arena.byteOffset + at, n), data: i % 4 === 0 ? Buffer.from(`d${i}`) : undefined });
    at += n;
  }
  return { events, arena };
}

test('metadataBackToBack: one view for views back to back in one buffer; null for a gap, another buffer or a reorder', (t) => {
  const { events } = arenaEvents(0, 5);
  const total = events.reduce((s, e) => s + e.metadata.length, 0);
  const run = metadataBackToBack(events, 0, 5, total);
  t.truthy(run);
  t.is(Buffer.from(run!).toString(), [0, 1, 2, 3, 4].map(text).join(''));
  const tail = metadataBackToBack(events, 2, 5, total - events[0]!.metadata.length - events[1]!.metadata.length);
  t.is(Buffer.from(tail!).toString(), [2, 3, 4].map(text).join(''));
  t.is(metadataBackToBack([events[0]!, events[2]!], 0, 2, 1), null, 'a gap');
  t.is(metadataBackToBack([events[1]!, events[0]!], 0, 2, 1), null, 'out of order');
  const copy = { metadata: Buffer.from(events[1]!.metadata) };
  t.is(metadataBackToBack([events[0]!, copy], 0, 2, 1), null, 'another buffer');
});

test('back-to-back, gapped and mixed metadata runs store the same bytes, each with its own CRC, across segment rolls', (t) => {
  const dir = tempDir(t);
  const log = PartitionLog.open(dir, 0, { segmentBytes: 2048 });
  t.teardown(() => log.close());
  const expected: string[] = [];
  const batches: AppendEvent[][] = [];
  // Back to back (a segment roll splits it: later runs start inside the arena).
  const a = arenaEvents(0, 60);
  batches.push(a.events);
  // Every other event of an arena (gaps): staged.
  const b = arenaEvents(60, 120);
  batches.push(b.events.filter((_, k) => k % 2 === 0));
  // Back to back, then one event from elsewhere, then back to back again.
  const c = arenaEvents(120, 150);
  batches.push([...c.events.slice(0, 10), { metadata: Buffer.from(text(999)) }, ...c.events.slice(10)]);
  for (const batch of batches) {
    for (const e of batch) expected.push(Buffer.from(e.metadata).toString());
    log.append(batch);
  }
  // Written, not referenced: the arenas may change afterwards without changing what is stored.
  a.arena.fill(0x20);
  c.arena.fill(0x20);
  const check = (l: PartitionLog): void => {
    const all = l.readRange(0, 1000);
    t.is(all.length, expected.length);
    for (let i = 0; i < all.length; i++) t.is(Buffer.from(all[i]!.metadata).toString(), expected[i]);
    t.deepEqual(l.verify(), [], 'every entry and its metadata/data CRCs check');
  };
  check(log);
  t.true(log.stats().segments > 3, 'the batches rolled over several segments');
  log.close();
  const reopened = PartitionLog.open(dir, 0, { segmentBytes: 2048 });
  t.teardown(() => reopened.close());
  check(reopened);
});
