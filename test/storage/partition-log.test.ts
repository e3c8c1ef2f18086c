import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { PartitionLog, MAX_EVENT_PART_BYTES } from '../../storage/partition-log.js';
import { StorageError, type AppendEvent } from '../../storage/types.js';
import { ENTRY_SIZE } from '../../storage/index-entry.js';
import { listSegmentBases } from '../../storage/segment-files.js';
import { payload, metaOf, writerAndReader } from './helpers.js';
import { tempDir } from '../temp-dir.js';

function dirSizes(dir: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of fs.readdirSync(dir)) out[f] = fs.statSync(path.join(dir, f)).size;
  return out;
}

test('round trip of metadata and data across several segment rolls', (t) => {
  const dir = tempDir(t);
  const log = PartitionLog.open(dir, 0, { segmentBytes: 4096 });
  t.teardown(() => log.close());
  const events: AppendEvent[] = [];
  for (let i = 0; i < 300; i++) {
    const size = (i * 37) % 700;
    // Every third event gives its data as several pieces: they must come back as one contiguous range.
    const data = payload(0, i, size);
    events.push({ metadata: metaOf(0, i), data: i % 3 === 0 ? [data.subarray(0, size >> 1), data.subarray(size >> 1)] : data });
  }
  let next = 0;
  for (const size of [1, 7, 50, 100, 142]) {
    const r = log.append(events.slice(next, next + size));
    t.deepEqual(r, { firstId: next, count: size });
    next += size;
  }
  t.is(log.endId, 300);
  t.true(listSegmentBases(dir).length > 10, 'the log rolled over several segments');
  const check = (l: PartitionLog): void => {
    const all = l.readRange(0, 1000);
    t.is(all.length, 300);
    for (let i = 0; i < 300; i++) {
      const ev = all[i]!;
      t.is(ev.id, i);
      t.deepEqual(Buffer.from(ev.metadata), metaOf(0, i));
      t.is(ev.dataSize, (i * 37) % 700);
      t.deepEqual(Buffer.from(ev.data()), payload(0, i, (i * 37) % 700));
    }
    t.deepEqual(Buffer.from(l.read(123).metadata), metaOf(0, 123));
  };
  check(log);
  const reopened = PartitionLog.open(dir, 0, { segmentBytes: 4096 });
  t.teardown(() => reopened.close());
  t.is(reopened.recovery, null);
  check(reopened);
  t.deepEqual(reopened.verify(), []);
  const stats = reopened.stats();
  t.is(stats.events, 300);
  t.is(stats.segments, listSegmentBases(dir).length);
  t.is(stats.metadataBytes, events.reduce((s, e) => s + e.metadata.length, 0));
});

test('segment files are named by base id and ids stay dense across segments', (t) => {
  const dir = tempDir(t);
  const log = PartitionLog.open(dir, 0, { segmentBytes: 1000 });
  t.teardown(() => log.close());
  for (let i = 0; i < 20; i++) log.append([{ metadata: Buffer.alloc(100, i) }, { metadata: Buffer.alloc(150, i) }]);
  const bases = listSegmentBases(dir);
  t.is(bases[0], 0);
  for (let s = 0; s + 1 < bases.length; s++) {
    const count = fs.statSync(path.join(dir, `${String(bases[s]).padStart(20, '0')}.index`)).size / ENTRY_SIZE;
    t.is(bases[s]! + count, bases[s + 1]!, 'each segment starts where the previous one ended');
  }
  t.true(fs.existsSync(path.join(dir, '00000000000000000000.meta')));
  t.true(fs.existsSync(path.join(dir, '00000000000000000000.data')));
});

test('an event bigger than a segment gets a segment of its own', (t) => {
  const dir = tempDir(t);
  const log = PartitionLog.open(dir, 0, { segmentBytes: 1024 });
  t.teardown(() => log.close());
  log.append([{ metadata: metaOf(0, 0) }, { metadata: metaOf(0, 1), data: payload(0, 1, 5000) }, { metadata: metaOf(0, 2) }]);
  t.deepEqual(listSegmentBases(dir), [0, 1, 2]);
  t.deepEqual(Buffer.from(log.read(1).data()), payload(0, 1, 5000));
  t.deepEqual(Buffer.from(log.read(2).metadata), metaOf(0, 2));
});

test('an event too large to map is rejected and nothing is written', (t) => {
  const dir = tempDir(t);
  const log = PartitionLog.open(dir, 0);
  t.teardown(() => log.close());
  log.append([{ metadata: metaOf(0, 0), data: payload(0, 0, 10) }]);
  const before = dirSizes(dir);
  // 17 views of one 64 MiB buffer: more than 1 GiB of data without allocating it.
  const chunk = new Uint8Array(64 * 1024 * 1024);
  const huge = Array.from({ length: 17 }, () => chunk);
  const err = t.throws(() => log.append([{ metadata: metaOf(0, 1) }, { metadata: metaOf(0, 2), data: huge }]), { instanceOf: StorageError });
  t.is(err!.code, 'EVENT_TOO_LARGE');
  t.true(17 * chunk.length > MAX_EVENT_PART_BYTES);
  t.is(log.endId, 1);
  t.deepEqual(dirSizes(dir), before);
  t.deepEqual(log.append([{ metadata: metaOf(0, 1) }]), { firstId: 1, count: 1 });
});

test('bad arguments give TypeError, bad option values BAD_CONFIG, closed logs CLOSED', (t) => {
  const dir = tempDir(t);
  t.throws(() => PartitionLog.open(dir, 0, { flushBehavior: 'sometimes' as never }), { instanceOf: StorageError, message: /flush_behavior/ });
  t.throws(() => PartitionLog.open(dir, 0, { segmentBytes: 2 * 1024 * 1024 * 1024 }), { instanceOf: StorageError });
  t.throws(() => PartitionLog.open(dir, 0, { segmentBytes: '12' as never }), { instanceOf: TypeError });
  const log = PartitionLog.open(dir, 0);
  t.throws(() => log.append('x' as never), { instanceOf: TypeError });
  t.throws(() => log.append([{ metadata: 'x' as never }]), { instanceOf: TypeError });
  t.throws(() => log.append([{ metadata: Buffer.alloc(1), data: [Buffer.alloc(1), 'x' as never] }]), { instanceOf: TypeError });
  t.throws(() => log.append([{ metadata: Buffer.alloc(1), timestamp: -5 }]), { instanceOf: TypeError });
  t.is(log.endId, 0, 'rejected batches write nothing');
  t.throws(() => log.read('1' as never), { instanceOf: TypeError });
  t.is((t.throws(() => log.read(0)) as StorageError).code, 'OUT_OF_RANGE');
  t.is((t.throws(() => log.read(-1)) as StorageError).code, 'OUT_OF_RANGE');
  t.deepEqual(log.append([]), { firstId: 0, count: 0 });
  log.close();
  t.is((t.throws(() => log.append([{ metadata: Buffer.alloc(1) }])) as StorageError).code, 'CLOSED');
  t.is((t.throws(() => log.read(0)) as StorageError).code, 'CLOSED');
});

test('readRange stops at the end; findByTime uses non-decreasing timestamps', (t) => {
  const dir = tempDir(t);
  const log = PartitionLog.open(dir, 0, { segmentBytes: 200 });
  t.teardown(() => log.close());
  // A timestamp lower than its predecessor is clamped so that time never goes backwards in a partition.
  const stamps = [1000, 1000, 2000, 1500, 3000, 3000, 5000];
  log.append(stamps.map((ts, i) => ({ metadata: Buffer.alloc(60, i), timestamp: ts })));
  t.deepEqual(log.readRange(0, 100).map((e) => e.timestamp), [1000, 1000, 2000, 2000, 3000, 3000, 5000]);
  t.is(log.readRange(5, 100).length, 2);
  t.deepEqual(log.readRange(7, 10), []);
  t.is((t.throws(() => log.readRange(8, 1)) as StorageError).code, 'OUT_OF_RANGE');
  t.is(log.findByTime(0), 0);
  t.is(log.findByTime(1000), 0);
  t.is(log.findByTime(1001), 2);
  t.is(log.findByTime(2500), 4);
  t.is(log.findByTime(5000), 6);
  t.is(log.findByTime(5001), 7);
  const stats = log.stats();
  t.is(stats.firstTimestamp, 1000);
  t.is(stats.lastTimestamp, 5000);
});

test('all three durability modes append, flush and read back', (t) => {
  for (const flushBehavior of ['buffered', 'on_flush', 'immediate'] as const) {
    const dir = tempDir(t);
    const log = PartitionLog.open(dir, 0, { flushBehavior, segmentBytes: 2048 });
    for (let i = 0; i < 10; i++) log.append([{ metadata: metaOf(1, i), data: payload(1, i, 300) }]);
    log.flush();
    log.close();
    const again = PartitionLog.open(dir, 0);
    t.is(again.endId, 10, flushBehavior);
    t.deepEqual(Buffer.from(again.read(9).data()), payload(1, 9, 300));
    again.close();
  }
});

test('a batch larger than IOV_MAX pieces and the staging limit is written intact', (t) => {
  const dir = tempDir(t);
  const log = PartitionLog.open(dir, 0);
  t.teardown(() => log.close());
  const events: AppendEvent[] = [];
  for (let i = 0; i < 3000; i++) {
    const d = payload(2, i, 700);
    events.push({ metadata: metaOf(2, i), data: [d.subarray(0, 300), d.subarray(300)] });
  }
  t.deepEqual(log.append(events), { firstId: 0, count: 3000 });
  const back = log.readRange(0, 3000);
  for (let i = 0; i < 3000; i += 1) {
    if (!Buffer.from(back[i]!.data()).equals(payload(2, i, 700))) t.fail(`event ${i} differs`);
  }
  t.deepEqual(log.verify(), []);
});

test('metadata over the staging limit (written piece by piece) and metadata lying back to back are written intact', (t) => {
  const dir = tempDir(t);
  const log = PartitionLog.open(dir, 0);
  t.teardown(() => log.close());
  // 300 separate 4 KiB metadata parts (1.2 MB: past the staging limit), with and without data.
  const big: AppendEvent[] = [];
  for (let i = 0; i < 300; i++) big.push({ metadata: Buffer.alloc(4096, i & 255), data: i % 2 === 0 ? payload(3, i, 50) : undefined });
  t.deepEqual(log.append(big), { firstId: 0, count: 300 });
  // 100 metadata parts that are views of one buffer, back to back (as a producer's arena lays them out): one write.
  const one = Buffer.alloc(100 * 37);
  for (let i = 0; i < one.length; i++) one[i] = (i * 7) & 255;
  const packed: AppendEvent[] = [];
  for (let i = 0; i < 100; i++) packed.push({ metadata: one.subarray(i * 37, (i + 1) * 37) });
  t.deepEqual(log.append(packed), { firstId: 300, count: 100 });
  const back = log.readRange(0, 400);
  for (let i = 0; i < 300; i++) {
    if (!Buffer.from(back[i]!.metadata).equals(Buffer.alloc(4096, i & 255))) t.fail(`metadata of event ${i} differs`);
    const want = i % 2 === 0 ? payload(3, i, 50) : Buffer.alloc(0);
    if (!Buffer.from(back[i]!.data()).equals(want)) t.fail(`data of event ${i} differs`);
  }
  for (let i = 0; i < 100; i++) t.deepEqual(Buffer.from(back[300 + i]!.metadata), one.subarray(i * 37, (i + 1) * 37));
  t.deepEqual(log.verify(), []); // every stored CRC matches its bytes
});

test('two logs of one partition in the same process take turns without waiting for staleness', (t) => {
  const dir = tempDir(t);
  const a = PartitionLog.open(dir, 0, { segmentBytes: 500 });
  const b = PartitionLog.open(dir, 0, { segmentBytes: 500 });
  t.teardown(() => {
    a.close();
    b.close();
  });
  for (let i = 0; i < 50; i++) {
    t.is(a.append([{ metadata: metaOf(0, i) }]).firstId, 2 * i);
    t.is(b.append([{ metadata: metaOf(1, i) }]).firstId, 2 * i + 1);
  }
  t.is(a.refresh(), 100);
  t.deepEqual(Buffer.from(a.read(99).metadata), metaOf(1, 49));
  t.deepEqual(Buffer.from(b.read(98).metadata), metaOf(0, 49));
});

