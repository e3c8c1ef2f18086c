// How a reader that stays open finds the segments writers add (storage/segment-list.ts): it looks for a new segment
// only while the recovery point records commits past the segments it knows (a stat saved per refresh of a tailing
// reader), and writers, under the lock, always look.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { PartitionLog } from '../../storage/partition-log.js';
import { listSegmentBases, segmentPaths } from '../../storage/segment-files.js';
import { recoveryPointPath } from '../../storage/recovery-point.js';
import { exitOf, forkBin, metaOf, nextMessage, payload } from './helpers.js';
import { tempDir } from '../temp-dir.js';

test('a reader left open follows a writer through many segment rolls, one refresh per batch', (t) => {
  const dir = tempDir(t);
  const writer = PartitionLog.open(dir, 0, { segmentBytes: 120 });
  const reader = PartitionLog.open(dir, 0);
  t.teardown(() => {
    writer.close();
    reader.close();
  });
  for (let b = 0; b < 60; b++) {
    const batch = Array.from({ length: 1 + (b % 4) }, (_, i) => ({ metadata: metaOf(b, i) }));
    const { firstId, count } = writer.append(batch);
    t.is(reader.refresh(), firstId + count, `batch ${b}`);
    t.deepEqual(Buffer.from(reader.read(firstId + count - 1).metadata), metaOf(b, count - 1));
  }
  t.true(listSegmentBases(dir).length > 10, 'the writer rolled many times');
  t.is(reader.segmentCount, listSegmentBases(dir).length);
});

test('entries of a new segment the recovery point does not cover yet are found once it does (or when it is missing)', (t) => {
  const dir = tempDir(t);
  // Events of ~115 bytes in segments of 400: three fill a segment, the fourth starts the next one.
  const ev = (p: number, i: number) => ({ metadata: metaOf(p, i), data: payload(p, i, 100) });
  const first = PartitionLog.open(dir, 0, { segmentBytes: 400 });
  first.append([0, 1, 2].map((i) => ev(0, i)));
  const reader = PartitionLog.open(dir, 0);
  t.teardown(() => reader.close());
  t.is(reader.refresh(), 3);
  const pointBefore = fs.readFileSync(recoveryPointPath(dir));
  // A writer rolls to a new segment and writes a batch there, then dies before its recovery point write: the file
  // keeps the point of the batch before.
  first.append([0, 1, 2].map((i) => ev(1, i)));
  first.close();
  t.is(listSegmentBases(dir).length, 2);
  fs.writeFileSync(recoveryPointPath(dir), pointBefore);
  t.is(reader.refresh(), 3, 'not looked for: nothing past id 3 is recorded as committed');

  // The next writer (under the lock) finds the segment, keeps its intact entries and records them in the point.
  const next = PartitionLog.open(dir, 0, { segmentBytes: 400 });
  t.is(next.append([ev(2, 0)]).firstId, 6);
  next.close();
  t.is(reader.refresh(), 7);
  t.deepEqual(Buffer.from(reader.read(5).metadata), metaOf(1, 2));
  t.deepEqual(Buffer.from(reader.read(6).data()), payload(2, 0, 100));

  // Without a recovery point (a topic of an earlier version) a reader looks for new segments at every refresh.
  const third = PartitionLog.open(dir, 0, { segmentBytes: 400 });
  let end = 7;
  while (listSegmentBases(dir).length < 5) end = third.append([ev(3, end)]).firstId + 1;
  third.close();
  fs.rmSync(recoveryPointPath(dir));
  t.is(reader.refresh(), end);
  t.deepEqual(Buffer.from(reader.read(end - 1).metadata), metaOf(3, end - 1));
});

test('a reader left open while writers in other processes roll segments and are SIGKILLed sees what a fresh reader sees', async (t) => {
  const dir = path.join(tempDir(t), 'p'); // the writers log their acknowledged appends beside it (p.acks)
  fs.mkdirSync(dir);
  const seed = PartitionLog.open(dir, 0, { segmentBytes: 8192 });
  seed.append([{ metadata: metaOf(99, 0) }]);
  seed.close();
  const reader = PartitionLog.open(dir, 0);
  t.teardown(() => reader.close());
  // One checksum per event (metadata and data): what the reader saw, in id order.
  const digestOf = (log: PartitionLog, from: number, max: number): number[] =>
    log.readRange(from, max).map((e) => zlib.crc32(Buffer.from(e.data()), zlib.crc32(e.metadata)));
  const seen: number[] = [];
  const readAll = (): void => {
    const end = reader.refresh();
    while (seen.length < end) seen.push(...digestOf(reader, seen.length, 256));
  };
  for (let round = 0; round < 10; round++) {
    // Three writers take turns on the lock, each rolling a segment every few events (up to 200 KB of data each).
    const writers = [0, 1, 2].map((k) => forkBin(t, 'append-worker', [dir, String(round * 3 + k), 'forever', '8192']));
    await Promise.all(writers.map((w) => nextMessage(w, (m: { type?: string }) => m.type === 'ready')));
    const until = Date.now() + 50 + ((round * 37) % 150);
    while (Date.now() < until) {
      readAll();
      await new Promise((r) => setTimeout(r, 2));
    }
    for (const w of writers) w.kill('SIGKILL');
    await Promise.all(writers.map(exitOf));
    readAll();
  }
  // A last writer repairs what the kills left and commits; the reader then holds exactly what the files hold.
  const last = PartitionLog.open(dir, 0, { segmentBytes: 8192 });
  const end = last.append([{ metadata: metaOf(99, 1) }]).firstId + 1;
  last.close();
  readAll();
  const fresh = PartitionLog.open(dir, 0);
  t.teardown(() => fresh.close());
  t.deepEqual(fresh.verify(), []);
  t.is(fresh.endId, end);
  t.is(seen.length, end);
  const expected: number[] = [];
  while (expected.length < end) expected.push(...digestOf(fresh, expected.length, 256));
  t.deepEqual(seen, expected);
  const segments = listSegmentBases(dir).length;
  t.true(segments > 20, `${segments} segments`);
  t.log(`${end} events in ${segments} segments, 30 writers SIGKILLed while appending`);
});

test('files a writer killed while creating a segment left (an empty .meta, no .index) are no segment, wherever they end up', async (t) => {
  const dir = tempDir(t);
  // Events of ~115 bytes in segments of 400: three fill a segment.
  const ev = (p: number, i: number) => ({ metadata: metaOf(p, i), data: payload(p, i, 100) });
  const longLived = PartitionLog.open(dir, 0, { segmentBytes: 400 });
  t.teardown(() => longLived.close());
  longLived.append([ev(0, 0)]);
  await new Promise((r) => setTimeout(r, 30)); // its lease goes idle: another writer may take the lock
  // Another writer took the lock, started a segment at id 1 (its .meta, then .data, then .index) and was killed
  // after the first file: what SIGKILL inside SegmentList.create() leaves. The long-lived writer never saw it.
  const leftover = path.join(dir, `${'1'.padStart(20, '0')}.meta`);
  fs.writeFileSync(leftover, '');
  t.deepEqual(listSegmentBases(dir), [0], 'not listed as a segment');
  // The long-lived writer appends past id 1 in segment 0, then rolls to a new segment at id 3.
  for (let i = 1; i < 9; i++) {
    t.is(longLived.append([ev(0, i)]).firstId, i);
    await new Promise((r) => setTimeout(r, 5)); // each append takes the lock again (and catches up under it)
  }
  t.deepEqual(listSegmentBases(dir), [0, 3, 6]);
  t.true(fs.existsSync(leftover), 'the leftover is still there, inside segment 0');
  t.deepEqual(longLived.verify(), []);
  // A new process: reads everything, finds no damage, appends (before this fix: CORRUPTION, "segment file is missing").
  const fresh = PartitionLog.open(dir, 0, { segmentBytes: 400 });
  t.teardown(() => fresh.close());
  t.deepEqual(fresh.verify(), []);
  t.is(fresh.refresh(), 9);
  for (let i = 0; i < 9; i++) t.deepEqual(Buffer.from(fresh.read(i).data()), payload(0, i, 100), `event ${i}`);
  t.is(fresh.append([ev(1, 0)]).firstId, 9);
  // An index-less segment whose files hold bytes is not such a leftover: its index was lost, that is damage.
  fs.rmSync(segmentPaths(dir, 3).index);
  const damaged = PartitionLog.open(dir, 0);
  t.teardown(() => damaged.close());
  t.true(damaged.verify().some((p) => p.file === segmentPaths(dir, 3).index), JSON.stringify(damaged.verify()));
});
