// Data checksums checked a window at a time (storage/run-checks.ts): the same verdicts as one check per event.
import test from 'ava';
import fs from 'node:fs';
import { PartitionLog } from '../../storage/partition-log.js';
import { segmentPaths } from '../../storage/segment-files.js';
import { StorageError } from '../../storage/types.js';
import { metaOf, payload } from './helpers.js';
import { tempDir } from '../temp-dir.js';

const SIZES = [300, 0, 1, 5000, 77, 300, 300, 0, 2048, 13];
const N = 200;
const sizeOf = (i: number): number => SIZES[i % SIZES.length]!;

function build(dir: string): number[] {
  const log = PartitionLog.open(dir, 0);
  log.append(Array.from({ length: N }, (_, i) => ({ metadata: metaOf(5, i), data: payload(5, i, sizeOf(i)) })));
  log.close();
  const offsets: number[] = [];
  let at = 0;
  for (let i = 0; i < N; i++) {
    offsets.push(at);
    at += sizeOf(i);
  }
  return offsets;
}

/** Reads every event's data in order through one readRange (windows open), recording the ids that fail. */
function failingIds(log: PartitionLog, pick: (id: number) => boolean = () => true): number[] {
  const failed: number[] = [];
  for (const ev of log.readRange(0, N)) {
    if (!pick(ev.id)) continue;
    try {
      const bytes = ev.data();
      if (!Buffer.from(bytes).equals(payload(5, ev.id, sizeOf(ev.id)))) throw new Error(`wrong bytes for ${ev.id}`);
    } catch (err) {
      if (!(err instanceof StorageError) || err.code !== 'CORRUPTION') throw err;
      failed.push(ev.id);
    }
  }
  return failed;
}

test('intact data: every event delivered in order, with the right bytes', (t) => {
  const dir = tempDir(t);
  build(dir);
  const log = PartitionLog.open(dir, 0);
  t.teardown(() => log.close());
  t.deepEqual(failingIds(log), []);
  t.deepEqual(failingIds(log, (id) => id % 3 !== 0), [], 'with gaps in what is asked for');
});

test('flipped bits inside windows are reported for exactly the damaged events, in order or not', (t) => {
  const dir = tempDir(t);
  const offsets = build(dir);
  const damaged = [3, 4, 58, 120, 199]; // all with data (event 57 has none)
  const file = segmentPaths(dir, 0).data;
  const bytes = fs.readFileSync(file);
  for (const id of damaged) bytes[offsets[id]! + sizeOf(id) - 1]! ^= 0x04;
  fs.writeFileSync(file, bytes);
  const log = PartitionLog.open(dir, 0);
  t.teardown(() => log.close());
  t.deepEqual(failingIds(log), damaged);
  t.deepEqual(failingIds(log, (id) => id % 2 === 1), damaged.filter((id) => id % 2 === 1));
  // dataSlice checks the same way.
  const viaSlices: number[] = [];
  for (const ev of log.readRange(0, N)) {
    try {
      ev.dataSlice!(0, Math.min(1, ev.dataSize));
    } catch {
      viaSlices.push(ev.id);
    }
  }
  t.deepEqual(viaSlices, damaged);
  // read() (no run) checks the event alone and names it.
  const err = t.throws(() => log.read(58).data(), { instanceOf: StorageError })!;
  t.is(err.details.id, 58);
});

test('a window never vouches for bytes changed after it was checked by another readRange', (t) => {
  const dir = tempDir(t);
  const offsets = build(dir);
  const log = PartitionLog.open(dir, 0);
  t.teardown(() => log.close());
  t.deepEqual(failingIds(log), []);
  const fd = fs.openSync(segmentPaths(dir, 0).data, 'r+');
  fs.writeSync(fd, Buffer.from([0xff]), 0, 1, offsets[10]!);
  fs.closeSync(fd);
  t.deepEqual(failingIds(log), [10]);
});

test('windows check ahead: data asked for in order is checked once per window, as it was when checked', (t) => {
  const dir = tempDir(t);
  const offsets = build(dir);
  const log = PartitionLog.open(dir, 0);
  t.teardown(() => log.close());
  const run = log.readRange(0, N);
  run[0]!.data();
  run[1]!.data(); // the second in order opens a window from event 1 (up to 256 KiB / 256 events ahead)
  // Damage event 5 now: the window has vouched for it already, so this run delivers what was checked...
  const fd = fs.openSync(segmentPaths(dir, 0).data, 'r+');
  fs.writeSync(fd, Buffer.from([0xee]), 0, 1, offsets[5]!);
  fs.closeSync(fd);
  for (let i = 2; i <= 5; i++) t.notThrows(() => run[i]!.data());
  // ...while any later read sees the damage.
  t.deepEqual(failingIds(log), [5]);
  t.throws(() => log.read(5).data(), { instanceOf: StorageError });
});

test('metadata of a readRange is checked at once; a damaged one is named, the runs around it read fine', (t) => {
  const dir = tempDir(t);
  build(dir);
  const metaOffsets: number[] = [];
  let at = 0;
  for (let i = 0; i < N; i++) {
    metaOffsets.push(at);
    at += metaOf(5, i).length;
  }
  const file = segmentPaths(dir, 0).meta;
  const bytes = fs.readFileSync(file);
  bytes[metaOffsets[77]! + 2]! ^= 0x01;
  fs.writeFileSync(file, bytes);
  const log = PartitionLog.open(dir, 0);
  t.teardown(() => log.close());
  const err = t.throws(() => log.readRange(0, N), { instanceOf: StorageError })!;
  t.is(err.code, 'CORRUPTION');
  t.is(err.details.id, 77);
  t.is(err.details.file, file);
  t.is(err.details.offset, metaOffsets[77]);
  const before = log.readRange(0, 77);
  t.is(before.length, 77);
  before.forEach((ev, i) => t.true(Buffer.from(ev.metadata).equals(metaOf(5, i))));
  const after = log.readRange(78, N);
  t.is(after.length, N - 78);
  after.forEach((ev, i) => t.true(Buffer.from(ev.metadata).equals(metaOf(5, 78 + i))));
});
