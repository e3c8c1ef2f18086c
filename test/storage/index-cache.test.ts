// The read cache of index entries is bounded: a reader going through a partition of many segments keeps the index of
// the segment it reads, not of every sealed segment it read before. Released entries are read and checked again if
// asked for, and records read before a release still check their data.
import test from 'ava';
import fs from 'node:fs';
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

function writeLog(t: Parameters<typeof tempDir>[0]): string {
  const dir = tempDir(t);
  const w = PartitionLog.open(dir, 0, { segmentBytes: 8192 });
  for (let i = 0; i < EVENTS; i += 20) {
    w.append(Array.from({ length: 20 }, (_, k) => ({ metadata: metaOf(0, i + k), data: payload(0, i + k, DATA) })));
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
