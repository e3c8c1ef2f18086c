// The read cache of index entries is bounded: a reader going through a partition of many segments keeps the index of
// the segment it reads, not of every sealed segment it read before. Released entries are read and checked again if
// asked for, and records read before a release still check their data.
import test from 'ava';
import fs from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';
import { PartitionLog } from '../../storage/partition-log.js';
import type { Segment } from '../../storage/segment.js';
import { StorageError } from '../../storage/types.js';
import { payload, metaOf } from './helpers.js';
import { tempDir } from '../temp-dir.js';

const EVENTS = 400;
const DATA = 200;

function segmentsOf(log: PartitionLog): readonly Segment[] {
  return (log as unknown as { segments: { all: Segment[] } }).segments.all;
}

/** EVENTS events over many segments, event i with timestamp 1000 + i. */
function writeLog(t: Parameters<typeof tempDir>[0]): string {
  const dir = tempDir(t);
  const w = PartitionLog.open(dir, 0, { segmentBytes: 8192 });
  for (let i = 0; i < EVENTS; i += 20) {
    w.append(Array.from({ length: 20 }, (_, k) => ({ metadata: metaOf(0, i + k), data: payload(0, i + k, DATA), timestamp: 1000 + i + k })));
  }
  w.close();
  return dir;
}

test('reading through many segments keeps one sealed segment index cached; an earlier id reads again', (t) => {
  const dir = writeLog(t);
  const r = PartitionLog.open(dir, 0);
  t.teardown(() => r.close());
  const segs = segmentsOf(r);
  t.true(segs.length >= 8, `${segs.length} segments`);
  const seen: number[] = [];
  for (let id = 0; id < EVENTS; ) {
    const batch = r.readRange(id, 16);
    for (const e of batch) {
      t.deepEqual(Buffer.from(e.data()), payload(0, e.id, DATA));
      seen.push(e.id);
    }
    id += batch.length;
    // Every sealed segment other than the one holding the last id read has no cache.
    const current = segs.findIndex((s) => id - 1 >= s.baseId && id - 1 < s.endId);
    segs.forEach((s, i) => {
      if (i !== current && s.sealedCount !== null) t.is(s.cached, 0, `segment ${i} released after reading up to ${id - 1}`);
    });
  }
  t.deepEqual(seen, Array.from({ length: EVENTS }, (_, i) => i));
  const holding = segs.filter((s) => s.index.length > 0).length;
  t.true(holding <= 2, `${holding} of ${segs.length} segments hold an index cache (the one read last, and the growing last one)`);
  // Back to the start: entries are read and checked again.
  t.deepEqual(Buffer.from(r.read(3).metadata), metaOf(0, 3));
  t.deepEqual(Buffer.from(r.readRange(5, 2)[1]!.data()), payload(0, 6, DATA));
});

test('a record read before its segment cache was released still finds damage to its data', (t) => {
  const dir = writeLog(t);
  const r = PartitionLog.open(dir, 0, { verifyData: true });
  t.teardown(() => r.close());
  const held = r.readRange(0, 10); // segment 0, data not checked yet
  for (let id = 10; id < EVENTS; id += r.readRange(id, 50).length); // moves on: segment 0's cache is released
  t.is(segmentsOf(r)[0]!.cached, 0);
  const seg0 = segmentsOf(r)[0]!;
  // Damage event 4's data on disk (another writer's bytes through the file, seen through the mapping).
  const fd = fs.openSync(seg0.paths.data, 'r+');
  fs.writeSync(fd, Buffer.from([0xff ^ payload(0, 4, DATA)[7]!]), 0, 1, 4 * DATA + 7);
  fs.closeSync(fd);
  t.deepEqual(Buffer.from(held[3]!.data()), payload(0, 3, DATA));
  const err = t.throws(() => held[4]!.data(), { instanceOf: StorageError });
  t.is(err?.code, 'CORRUPTION');
});

test('a reader keeps no descriptor on the index of a sealed segment it read (a long partition would exhaust them)', (t) => {
  if (!fs.existsSync('/proc/self/fd')) return t.pass('no /proc');
  const dir = writeLog(t);
  const r = PartitionLog.open(dir, 0);
  t.teardown(() => r.close());
  const segs = segmentsOf(r);
  for (let id = 0; id < EVENTS; id += 16) for (const e of r.readRange(id, 16)) t.is(e.data().length, DATA);
  const indexFds = fs.readdirSync('/proc/self/fd').map((fd) => {
    try {
      return fs.readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      return '';
    }
  }).filter((l) => l.startsWith(dir) && l.endsWith('.index'));
  // Only the last segment's, which may still grow.
  t.deepEqual(indexFds, [segs[segs.length - 1]!.paths.index]);
});

const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

function mappingsOf(dir: string): number {
  return fs.readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => l.includes(dir)).length;
}

test('a reader keeps the mappings of the segment it reads, not of every one it read (Linux allows 65,530 per process)', async (t) => {
  if (!fs.existsSync('/proc/self/maps')) return t.pass('no /proc');
  const dir = writeLog(t);
  const r = PartitionLog.open(dir, 0);
  t.teardown(() => r.close());
  const segs = segmentsOf(r);
  let bytes = 0;
  for (let id = 0; id < EVENTS; id += 16) for (const e of r.readRange(id, 16)) bytes += e.data().length + e.metadata.length;
  t.true(bytes > 0);
  // The mappings of segments left behind go with the records referring to them (GC).
  let maps = mappingsOf(dir);
  for (let i = 0; i < 50 && maps > 4; i++) {
    gc();
    await nextTurn();
    maps = mappingsOf(dir);
  }
  t.true(maps <= 4, `${maps} mappings for ${segs.length} segments read (the one read last and the growing last one: 2 each)`);
});

test('records read before the reader moved on keep their bytes; a truncation since is CORRUPTION, not SIGBUS', async (t) => {
  const dir = writeLog(t);
  const r = PartitionLog.open(dir, 0, { verifyData: true });
  t.teardown(() => r.close());
  const held = r.readRange(0, 10);
  const single = r.read(12);
  for (let id = 13; id < EVENTS; id += r.readRange(id, 50).length); // moves on: segment 0's mappings are released
  gc();
  await nextTurn();
  for (const e of [...held, single]) {
    t.deepEqual(Buffer.from(e.metadata), metaOf(0, e.id));
    t.deepEqual(Buffer.from(e.data()), payload(0, e.id, DATA));
  }
  // Reading segment 0 again maps it again.
  t.deepEqual(Buffer.from(r.read(2).data()), payload(0, 2, DATA));
  const seg0 = segmentsOf(r)[0]!;
  fs.truncateSync(seg0.paths.data, 2 * DATA);
  fs.truncateSync(seg0.paths.meta, 0);
  await nextTurn();
  const heldData = held[5]!;
  t.is((t.throws(() => heldData.data(), { instanceOf: StorageError }))?.code, 'CORRUPTION');
  t.is((t.throws(() => held[6]!.metadata, { instanceOf: StorageError }))?.code, 'CORRUPTION');
  t.deepEqual(Buffer.from(held[1]!.data()), payload(0, 1, DATA), 'bytes still in the file are still read');
});

test('stats() and findByTime() do not keep the index of every segment in memory (a lag() loop on a long partition would)', (t) => {
  const dir = writeLog(t);
  const r = PartitionLog.open(dir, 0);
  t.teardown(() => r.close());
  const segs = segmentsOf(r);
  t.true(segs.length >= 8);
  const cachedSegments = (): number => segs.filter((s) => s.index.length > 0 && s.sealedCount !== null).length;
  const stats = r.stats();
  t.is(stats.events, EVENTS);
  t.is(stats.segments, segs.length);
  t.is(stats.firstTimestamp, 1000);
  t.is(stats.lastTimestamp, 1000 + EVENTS - 1);
  t.is(stats.dataBytes, EVENTS * DATA);
  t.is(stats.metadataBytes, Array.from({ length: EVENTS }, (_, i) => metaOf(0, i).length).reduce((a, b) => a + b, 0));
  t.is(cachedSegments(), 0, 'no sealed segment keeps its index after stats()');
  t.deepEqual(r.stats(), stats, 'the same answer again');
  for (const at of [0, 1000, 1137, 1250, 1399, 1400, 5000]) {
    const id = r.findByTime(at);
    t.is(id, Math.min(EVENTS, Math.max(0, at - 1000)), `findByTime(${at})`);
  }
  t.is(cachedSegments(), 0, 'nor after findByTime()');
  // A reader in the middle of a segment keeps its cache through both.
  r.readRange(150, 1);
  const reading = segs.find((s) => 150 >= s.baseId && 150 < s.endId)!;
  const cachedBefore = reading.cached;
  t.true(cachedBefore > 0);
  r.stats();
  r.findByTime(1151);
  t.is(reading.cached, cachedBefore);
  t.deepEqual(Buffer.from(r.readRange(155, 1)[0]!.data()), payload(0, 155, DATA));
});
