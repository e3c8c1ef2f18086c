// The read cache of index entries is bounded: a reader going through a partition of many segments keeps the index of
// the segment it reads, not of every sealed segment it read before. Released entries are read and checked again if
// asked for, and records read before a release still check their data.
import test from 'ava';
import fs from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';
import { PartitionLog } from '../../storage/partition-log.js';
import { WINDOW_ENTRIES, type Segment } from '../../storage/segment.js';
import { ENTRY_SIZE } from '../../storage/index-entry.js';
import { segmentPaths } from '../../storage/segment-files.js';
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

test('findByTime() on a sealed segment opens its index once per search, not once per entry it reads', (t) => {
  const dir = writeLog(t);
  const r = PartitionLog.open(dir, 0);
  t.teardown(() => r.close());
  r.stats(); // counts every segment (and closes the sealed ones' descriptors)
  const opens: string[] = [];
  const openSync = fs.openSync;
  fs.openSync = ((file: fs.PathLike, ...rest: unknown[]) => {
    opens.push(String(file));
    return (openSync as (...a: unknown[]) => number)(file, ...rest);
  }) as typeof fs.openSync;
  try {
    t.is(r.findByTime(1137), 137);
  } finally {
    fs.openSync = openSync;
  }
  const indexOpens = opens.filter((f) => f.endsWith('.index'));
  t.true(indexOpens.length <= 1, `${indexOpens.length} opens of an index: ${indexOpens.join(', ')}`);
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

// ---------------------------------------------------------------- one long segment: the index is read a window at a time

const LONG = 3 * WINDOW_ENTRIES + 100;

/** LONG small events (no data) in one segment, event i with timestamp 5000 + i. */
function writeLongSegment(t: Parameters<typeof tempDir>[0]): string {
  const dir = tempDir(t);
  const w = PartitionLog.open(dir, 0);
  for (let i = 0; i < LONG; i += 1000) {
    w.append(Array.from({ length: Math.min(1000, LONG - i) }, (_, k) => ({ metadata: metaOf(0, i + k), timestamp: 5000 + i + k })));
  }
  w.close();
  return dir;
}

const cachedEntries = (s: Segment): number => s.index.length / ENTRY_SIZE;

test('opening a long segment reads one window of its index; a reader holds one window however far it reads', (t) => {
  const dir = writeLongSegment(t);
  const r = PartitionLog.open(dir, 0);
  t.teardown(() => r.close());
  const seg = segmentsOf(r)[0]!;
  t.is(r.endId, LONG, 'every entry counted');
  t.true(cachedEntries(seg) === 0, 'counting did not fill the read cache');
  let id = 0;
  let most = 0;
  while (id < LONG) {
    const batch = r.readRange(id, 128);
    for (const e of batch) t.is(Buffer.from(e.metadata).toString(), metaOf(0, e.id).toString());
    id += batch.length;
    most = Math.max(most, cachedEntries(seg));
  }
  t.true(most <= WINDOW_ENTRIES, `at most ${most} entries cached (window ${WINDOW_ENTRIES})`);
  // Back to an early id, a whole range across windows, and a search by time.
  t.deepEqual(Buffer.from(r.read(5).metadata), metaOf(0, 5));
  const wide = r.readRange(WINDOW_ENTRIES - 3, WINDOW_ENTRIES + 10);
  t.is(wide.length, WINDOW_ENTRIES + 10);
  t.deepEqual(wide.map((e) => e.id), Array.from({ length: WINDOW_ENTRIES + 10 }, (_, k) => WINDOW_ENTRIES - 3 + k));
  t.deepEqual(Buffer.from(wide[wide.length - 1]!.metadata), metaOf(0, 2 * WINDOW_ENTRIES + 6));
  t.is(r.findByTime(5000 + 2 * WINDOW_ENTRIES + 17), 2 * WINDOW_ENTRIES + 17);
  t.is(r.findByTime(4000), 0);
  t.is(r.findByTime(5000 + LONG), LONG);
});

test('a damaged entry deep below the scanned end is counted, then CORRUPTION when read; its neighbours read', (t) => {
  const dir = writeLongSegment(t);
  const p = segmentPaths(dir, 0);
  const fd = fs.openSync(p.index, 'r+');
  const at = 100 * ENTRY_SIZE + 9;
  const b = Buffer.alloc(1);
  fs.readSync(fd, b, 0, 1, at);
  fs.writeSync(fd, Buffer.from([b[0]! ^ 0x40]), 0, 1, at);
  fs.closeSync(fd);
  const r = PartitionLog.open(dir, 0);
  t.teardown(() => r.close());
  t.is(r.recovery, null);
  t.is(r.endId, LONG);
  const err = t.throws(() => r.readRange(96, 8), { instanceOf: StorageError });
  t.is(err?.code, 'CORRUPTION');
  t.is(err?.details.offset, 100 * ENTRY_SIZE);
  t.is((t.throws(() => r.read(100), { instanceOf: StorageError }))?.code, 'CORRUPTION');
  t.deepEqual(Buffer.from(r.read(99).metadata), metaOf(0, 99));
  t.deepEqual(r.readRange(101, 50).map((e) => e.id)[0], 101);
  t.deepEqual(r.verify().map((q) => [q.file, q.offset]), [[p.index, 100 * ENTRY_SIZE]]);
  // A writer does not cut it (valid entries follow) and appends after the end.
  t.deepEqual(r.append([{ metadata: metaOf(0, LONG) }]), { firstId: LONG, count: 1 });
  t.is(fs.statSync(p.index).size, (LONG + 1) * ENTRY_SIZE);
});

test('a torn tail longer than a window: readers count up to the last valid entry, the next writer cuts the rest', (t) => {
  const dir = writeLongSegment(t);
  const p = segmentPaths(dir, 0);
  const torn = WINDOW_ENTRIES + 37;
  fs.appendFileSync(p.index, Buffer.alloc(torn * ENTRY_SIZE + 5, 0xab));
  const r = PartitionLog.open(dir, 0);
  t.teardown(() => r.close());
  t.is(r.endId, LONG);
  t.like(r.recovery, { truncated: false, droppedEntries: torn + 1 });
  t.deepEqual(Buffer.from(r.read(LONG - 1).metadata), metaOf(0, LONG - 1));
  t.deepEqual(r.append([{ metadata: metaOf(0, LONG) }]), { firstId: LONG, count: 1 });
  t.is(fs.statSync(p.index).size, (LONG + 1) * ENTRY_SIZE);
  t.deepEqual(Buffer.from(r.read(LONG).metadata), metaOf(0, LONG));
  t.deepEqual(r.verify(), []);
});

test('records whose window the reader moved past still check their data one by one (damage found, intact data returned)', (t) => {
  const dir = tempDir(t);
  const w = PartitionLog.open(dir, 0);
  const n = 2 * WINDOW_ENTRIES + 50;
  for (let i = 0; i < n; i += 1000) {
    w.append(Array.from({ length: Math.min(1000, n - i) }, (_, k) => ({ metadata: metaOf(0, i + k), data: payload(0, i + k, 16) })));
  }
  w.close();
  const r = PartitionLog.open(dir, 0, { verifyData: true });
  t.teardown(() => r.close());
  const held = r.readRange(0, 10); // data not checked yet
  const seg = segmentsOf(r)[0]!;
  for (let id = 10; id < n; id += r.readRange(id, 500).length);
  t.true(seg.cacheFrom > 10, 'the window moved past the held records');
  const fd = fs.openSync(segmentPaths(dir, 0).data, 'r+');
  fs.writeSync(fd, Buffer.from([0xff ^ payload(0, 4, 16)[3]!]), 0, 1, 4 * 16 + 3);
  fs.closeSync(fd);
  for (const k of [0, 1, 2, 3]) t.deepEqual(Buffer.from(held[k]!.data()), payload(0, k, 16));
  t.is((t.throws(() => held[4]!.data(), { instanceOf: StorageError }))?.code, 'CORRUPTION');
  t.deepEqual(Buffer.from(held[5]!.data()), payload(0, 5, 16));
});
