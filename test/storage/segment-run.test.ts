// Runs of events read by position (storage/segment-run.ts, PartitionLog.readRun): the same answers as readRange's
// records, a run per segment, the records themselves where a run does not apply, and the records' error reporting
// (damage, truncation by another process) for anything off the run's fast path.
import test from 'ava';
import fs from 'node:fs';
import { PartitionLog } from '../../storage/partition-log.js';
import { SegmentRun } from '../../storage/segment-run.js';
import { segmentPaths } from '../../storage/segment-files.js';
import { StorageError, type StoredEvent, type StoredRun } from '../../storage/types.js';
import { payload, metaOf } from './helpers.js';
import { tempDir } from '../temp-dir.js';

const DATA = 500;
const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A partition of `events` events (every third one without data) in segments of `segmentBytes`. */
function writeLog(dir: string, events: number, segmentBytes = 1 << 30): void {
  const w = PartitionLog.open(dir, 0, { segmentBytes });
  for (let i = 0; i < events; i += 10) {
    const batch = [];
    for (let k = i; k < Math.min(events, i + 10); k++) batch.push({ metadata: metaOf(0, k), data: k % 3 === 0 ? undefined : payload(0, k, DATA), timestamp: 1000 + k });
    w.append(batch);
  }
  w.close();
}

function asRun(r: StoredRun | StoredEvent[]): StoredRun {
  if (Array.isArray(r)) throw new Error(`records (${r.length}) where a run was expected`);
  return r;
}

test('a run answers what readRange()\'s records answer, and stops at the end of a segment', (t) => {
  const dir = tempDir(t);
  writeLog(dir, 100, 16 * 1024);
  for (const verifyData of [true, false]) {
    const log = PartitionLog.open(dir, 0, { verifyData });
    let id = 0;
    let runs = 0;
    while (id < 100) {
      const run = asRun(log.readRun(id, 64));
      const records = log.readRange(id, run.length);
      t.true(run.length >= 1);
      t.is(run.firstId, id);
      for (let k = 0; k < run.length; k++) {
        const rec = records[k]!;
        t.is(run.id(k), rec.id);
        t.is(run.timestamp(k), rec.timestamp);
        t.is(run.timestamp(k), 1000 + rec.id);
        t.is(run.dataSize(k), rec.dataSize);
        t.is(run.metadataUtf8(k), rec.metadataUtf8!());
        t.deepEqual(Buffer.from(run.metadataBytes(k)), metaOf(0, rec.id));
        t.deepEqual(Buffer.from(run.data(k)), rec.id % 3 === 0 ? Buffer.alloc(0) : payload(0, rec.id, DATA));
        const made = run.record(k);
        t.is(made.id, rec.id);
        t.deepEqual(Buffer.from(made.data()), Buffer.from(rec.data()));
      }
      id += run.length;
      runs++;
    }
    t.true(runs > 100 / 64 + 1, `${runs} runs: they stop at segment ends (segments of ~16 KiB hold fewer than 64 events)`);
    t.deepEqual(log.readRun(100, 10), [], 'the end: no events');
    t.is((t.throws(() => log.readRun(101, 10), { instanceOf: StorageError }))?.code, 'OUT_OF_RANGE');
    log.close();
  }
});

test('a single event, and a range holding a damaged index entry, are answered as records', (t) => {
  const dir = tempDir(t);
  writeLog(dir, 20);
  const log = PartitionLog.open(dir, 0);
  t.teardown(() => log.close());
  t.true(log.readRun(0, 20) instanceof SegmentRun);
  const one = log.readRun(19, 5);
  t.true(Array.isArray(one) && one.length === 1 && one[0]!.id === 19);

  // Event 7's index entry damaged: reading 0.. fails at it, as readRange does; the events before it read alone.
  const index = segmentPaths(log.dir, 0).index;
  const fd = fs.openSync(index, 'r+');
  fs.writeSync(fd, Buffer.from([0xff ^ fs.readFileSync(index)[7 * 48 + 3]!]), 0, 1, 7 * 48 + 3);
  fs.closeSync(fd);
  const reader = PartitionLog.open(dir, 0);
  t.teardown(() => reader.close());
  const fromRange = t.throws(() => reader.readRange(0, 20), { instanceOf: StorageError });
  const fromRun = t.throws(() => reader.readRun(0, 20), { instanceOf: StorageError });
  t.is(fromRun?.code, 'CORRUPTION');
  t.is(fromRun?.message, fromRange?.message);
  t.true(reader.readRun(0, 7) instanceof SegmentRun, 'the events before it form a run');
  t.true(reader.readRun(8, 12) instanceof SegmentRun, 'and those after it');
});

test('damaged metadata: the run is refused and the records name the event', (t) => {
  const dir = tempDir(t);
  writeLog(dir, 20);
  const meta = segmentPaths(dir, 0).meta;
  const bytes = fs.readFileSync(meta);
  const at = bytes.indexOf(metaOf(0, 11));
  bytes[at + 2]! ^= 0x01;
  fs.writeFileSync(meta, bytes);
  const log = PartitionLog.open(dir, 0);
  t.teardown(() => log.close());
  const err = t.throws(() => log.readRun(0, 20), { instanceOf: StorageError });
  t.is(err?.code, 'CORRUPTION');
  t.regex(err!.message, /metadata of event 11/);
});

test('damaged data: run.data() of that event is CORRUPTION naming it; its neighbours are read', (t) => {
  const dir = tempDir(t);
  writeLog(dir, 30);
  const data = segmentPaths(dir, 0).data;
  const bytes = fs.readFileSync(data);
  const at = bytes.indexOf(payload(0, 14, DATA));
  t.true(at >= 0);
  bytes[at + 100]! ^= 0x40;
  fs.writeFileSync(data, bytes);
  const log = PartitionLog.open(dir, 0);
  t.teardown(() => log.close());
  const run = asRun(log.readRun(0, 30));
  for (let k = 0; k < 30; k++) {
    if (k === 14) {
      const err = t.throws(() => run.data(k), { instanceOf: StorageError });
      t.is(err?.code, 'CORRUPTION');
      t.regex(err!.message, /data of event 14 /);
    } else {
      t.deepEqual(Buffer.from(run.data(k)), k % 3 === 0 ? Buffer.alloc(0) : payload(0, k, DATA), `event ${k}`);
    }
  }
  const unverified = PartitionLog.open(dir, 0, { verifyData: false });
  t.teardown(() => unverified.close());
  t.is(asRun(unverified.readRun(0, 30)).data(14).length, DATA, 'verifyData false: handed out unchecked');
});

test('files truncated by another process after the run was read: CORRUPTION, not SIGBUS; bytes still there are read', async (t) => {
  const dir = tempDir(t);
  writeLog(dir, 30);
  const log = PartitionLog.open(dir, 0);
  t.teardown(() => log.close());
  const run = asRun(log.readRun(0, 30));
  const paths = segmentPaths(dir, 0);
  const dataEnd = fs.statSync(paths.data).size;
  fs.truncateSync(paths.data, dataEnd - 3 * DATA);
  fs.truncateSync(paths.meta, 0);
  await nextTurn();
  t.is((t.throws(() => run.data(29), { instanceOf: StorageError }))?.code, 'CORRUPTION');
  t.is((t.throws(() => run.metadataUtf8(3), { instanceOf: StorageError }))?.code, 'CORRUPTION');
  t.is((t.throws(() => run.metadataBytes(3), { instanceOf: StorageError }))?.code, 'CORRUPTION');
  t.deepEqual(Buffer.from(run.data(1)), payload(0, 1, DATA));
});
