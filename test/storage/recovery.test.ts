import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { PartitionLog } from '../../storage/partition-log.js';
import { StorageError, type AppendEvent } from '../../storage/types.js';
import { ENTRY_SIZE } from '../../storage/index-entry.js';
import { segmentPaths } from '../../storage/segment-files.js';
import { decodeRecoveryPoint, encodeRecoveryPoint, recoveryPointPath } from '../../storage/recovery-point.js';
import { payload, metaOf } from './helpers.js';
import { tempDir } from '../temp-dir.js';

const events: AppendEvent[] = Array.from({ length: 6 }, (_, i) => ({
  metadata: metaOf(7, i),
  data: payload(7, i, 40 + i * 5),
  timestamp: 1_700_000_000_000 + i,
}));

function build(dir: string, n: number, flushBehavior: 'buffered' | 'on_flush' | 'immediate' = 'buffered'): void {
  const log = PartitionLog.open(dir, 0, { flushBehavior });
  for (let i = 0; i < n; i++) log.append([events[i]!]);
  log.flush();
  log.close();
}

function expectFirst(t: import('ava').ExecutionContext, log: PartitionLog, n: number): void {
  t.is(log.endId, n);
  for (let i = 0; i < n; i++) {
    const ev = log.read(i);
    t.deepEqual(Buffer.from(ev.metadata), metaOf(7, i));
    t.deepEqual(Buffer.from(ev.data()), payload(7, i, 40 + i * 5));
  }
}

for (const mode of ['buffered', 'on_flush', 'immediate'] as const) test(`a torn tail cut at every ${mode === 'buffered' ? '' : '7th '}byte of the last record (${mode}) recovers exactly the earlier records and is reported, not CORRUPTION`, (t) => {
  const root = tempDir(t);
  const base = path.join(root, 'base');
  const full = path.join(root, 'full');
  const n = events.length;
  build(base, n - 1, mode);
  build(full, n, mode);
  const bp = segmentPaths(base, 0);
  const fp = segmentPaths(full, 0);
  // The last record's bytes in the order a writer produces them: metadata, data, then the index entry.
  const pieces = (['meta', 'data', 'index'] as const).map((k) => ({ k, bytes: fs.readFileSync(fp[k]).subarray(fs.statSync(bp[k]).size) }));
  const total = pieces.reduce((s, p) => s + p.bytes.length, 0);
  t.is(pieces[2]!.bytes.length, ENTRY_SIZE);
  const step = mode === 'buffered' ? 1 : 7;
  for (let cut = 0; cut <= total; cut = cut === total ? total + 1 : Math.min(total, cut + step)) {
    const dir = path.join(root, `cut-${cut}`);
    fs.mkdirSync(dir);
    const dp = segmentPaths(dir, 0);
    // The writer died before recording the batch in the recovery point (it does so after the index entries).
    fs.copyFileSync(recoveryPointPath(base), recoveryPointPath(dir));
    let left = cut;
    for (const { k, bytes } of pieces) {
      const take = Math.min(left, bytes.length);
      left -= take;
      fs.writeFileSync(dp[k], Buffer.concat([fs.readFileSync(bp[k]), bytes.subarray(0, take)]));
    }
    const sizesBefore = (['meta', 'data', 'index'] as const).map((k) => fs.statSync(dp[k]).size);
    const log = PartitionLog.open(dir, 0, { flushBehavior: mode });
    if (cut === total) {
      t.is(log.recovery, null);
      expectFirst(t, log, n);
    } else {
      // A read-only open leaves the torn tail out of the log without touching the files.
      expectFirst(t, log, n - 1);
      // ... and reports what it found (not cut: truncated false) when there is anything past the last entry.
      if (cut === 0) t.is(log.recovery, null);
      else t.is(log.recovery?.truncated, false, `cut at ${cut} is reported as found`);
      t.deepEqual((['meta', 'data', 'index'] as const).map((k) => fs.statSync(dp[k]).size), sizesBefore, 'opening changed nothing');
      t.deepEqual(log.append([events[n - 1]!]), { firstId: n - 1, count: 1 }, 'the log accepts appends after recovery');
      expectFirst(t, log, n);
      if (cut === 0) t.is(log.recovery, null);
      else {
        t.truthy(log.recovery, `cut at ${cut} is reported`);
        const r = log.recovery!;
        t.is(r.droppedBytes + r.droppedEntries > 0, true);
        t.true(r.truncated);
        t.is(r.partition, 0);
        t.true(r.cuts.length > 0);
        if (r.droppedEntries > 0) t.is(r.firstCutId, n - 1);
        // The torn bytes were cut before the new event was written at the old end.
        for (const k of ['meta', 'data', 'index'] as const) t.is(fs.statSync(dp[k]).size, fs.statSync(fp[k]).size);
      }
    }
    log.close();
    fs.rmSync(dir, { recursive: true });
  }
});

test('garbage appended to index, metadata and data files is left out by readers and cut by the next writer', (t) => {
  const dir = tempDir(t);
  build(dir, 4);
  const p = segmentPaths(dir, 0);
  const sizes = { index: fs.statSync(p.index).size, meta: fs.statSync(p.meta).size, data: fs.statSync(p.data).size };
  fs.appendFileSync(p.index, Buffer.alloc(3 * ENTRY_SIZE + 5, 0xab));
  fs.appendFileSync(p.meta, Buffer.from('not committed'));
  fs.appendFileSync(p.data, Buffer.alloc(1000, 0xcd));
  const log = PartitionLog.open(dir, 0);
  t.teardown(() => log.close());
  expectFirst(t, log, 4);
  t.like(log.recovery, { truncated: false, droppedEntries: 4, droppedBytes: 13 + 1000 }, 'a read-only open reports, cuts nothing');
  t.is(fs.statSync(p.index).size, sizes.index + 3 * ENTRY_SIZE + 5);
  t.deepEqual(log.append([events[4]!]), { firstId: 4, count: 1 });
  expectFirst(t, log, 5);
  t.deepEqual(log.recovery?.droppedEntries, 4);
  t.deepEqual(log.recovery?.droppedBytes, 13 + 1000);
  t.true(log.recovery!.notes.some((line) => line.includes(p.index)));
  t.deepEqual(log.recovery!.cuts.map((c) => [c.file, c.offset]), [[p.index, sizes.index], [p.meta, sizes.meta], [p.data, sizes.data]]);
  t.is(fs.statSync(p.index).size, sizes.index + ENTRY_SIZE);
  t.is(fs.statSync(p.meta).size, sizes.meta + metaOf(7, 4).length);
  t.is(fs.statSync(p.data).size, sizes.data + 60);
  t.deepEqual(log.verify(), []);
});

/** Rewrites the recovery point as if written before a reboot, with the given durable end. */
function pointFromEarlierBoot(dir: string, durableEnd: number): void {
  const p = decodeRecoveryPoint(fs.readFileSync(recoveryPointPath(dir)));
  if (typeof p === 'string') throw new Error(p);
  fs.writeFileSync(recoveryPointPath(dir), encodeRecoveryPoint({ ...p, durableEnd, bootId: Buffer.alloc(16, 0x5a) }));
}

test('after a reboot, an entry past the durable end pointing past the end of the data file (lost by a power cut) is cut', (t) => {
  const dir = tempDir(t);
  build(dir, 5);
  const p = segmentPaths(dir, 0);
  fs.truncateSync(p.data, fs.statSync(p.data).size - 10);
  pointFromEarlierBoot(dir, 4);
  const log = PartitionLog.open(dir, 0);
  t.teardown(() => log.close());
  expectFirst(t, log, 4);
  t.deepEqual(log.append([events[4]!]), { firstId: 4, count: 1 });
  t.is(log.recovery?.droppedEntries, 1);
  t.is(log.recovery?.firstCutId, 4);
  expectFirst(t, log, 5);
});

test('in the same boot (or below the durable end) the same loss is CORRUPTION: nothing cut, no id reused', (t) => {
  for (const rebooted of [false, true]) {
    const dir = tempDir(t);
    build(dir, 5, 'immediate');
    const p = segmentPaths(dir, 0);
    const dataSize = fs.statSync(p.data).size;
    fs.truncateSync(p.data, dataSize - 10);
    if (rebooted) pointFromEarlierBoot(dir, 5);
    const log = PartitionLog.open(dir, 0);
    t.is(log.endId, 5, 'the end does not move back');
    for (let i = 0; i < 4; i++) t.deepEqual(Buffer.from(log.read(i).data()), payload(7, i, 40 + i * 5));
    const readErr = t.throws(() => log.read(4).data(), { instanceOf: StorageError })!;
    t.is(readErr.code, 'CORRUPTION');
    t.is(readErr.details.file, p.data);
    const err = t.throws(() => log.append([events[5]!]), { instanceOf: StorageError })!;
    t.is(err.code, 'CORRUPTION');
    t.is(err.details.file, p.index);
    t.is(err.details.offset, 4 * ENTRY_SIZE);
    t.is(fs.statSync(p.data).size, dataSize - 10, 'nothing was cut');
    t.is(fs.statSync(p.index).size, 5 * ENTRY_SIZE);
    t.true(log.verify().some((q) => q.file === p.data && q.id === 4));
    log.close();
  }
});

test('a flipped bit in committed data or metadata is reported as corruption, never returned', (t) => {
  const dir = tempDir(t);
  build(dir, 6);
  const p = segmentPaths(dir, 0);
  const log0 = PartitionLog.open(dir, 0);
  const ev2 = log0.read(2);
  const dataOffset = ev2.data().byteOffset - log0.read(0).data().byteOffset;
  log0.close();
  // Flip one bit in the data of event 2 and one in the metadata of event 4.
  const data = fs.readFileSync(p.data);
  data[dataOffset + 3]! ^= 0x10;
  fs.writeFileSync(p.data, data);
  const meta = fs.readFileSync(p.meta);
  const metaOffset = [0, 1, 2, 3].reduce((s, i) => s + metaOf(7, i).length, 0);
  meta[metaOffset + 1]! ^= 0x01;
  fs.writeFileSync(p.meta, meta);

  const log = PartitionLog.open(dir, 0);
  t.teardown(() => log.close());
  t.is(log.recovery, null, 'corruption in committed records is not a torn tail');
  t.is(log.endId, 6);
  const dataErr = t.throws(() => log.read(2).data(), { instanceOf: StorageError })!;
  t.is(dataErr.code, 'CORRUPTION');
  // A slice of the data (even one avoiding the flipped byte) is checked against the whole part's checksum too.
  const sliceErr = t.throws(() => log.read(2).dataSlice!(10, 5), { instanceOf: StorageError })!;
  t.is(sliceErr.code, 'CORRUPTION');
  t.is(dataErr.details.file, p.data);
  t.is(dataErr.details.offset, dataOffset);
  const metaErr = t.throws(() => log.read(4), { instanceOf: StorageError })!;
  t.is(metaErr.code, 'CORRUPTION');
  t.is(metaErr.details.file, p.meta);
  t.is(metaErr.details.offset, metaOffset);
  t.throws(() => log.readRange(0, 10), { instanceOf: StorageError });
  // Untouched events still read fine.
  t.deepEqual(Buffer.from(log.read(5).data()), payload(7, 5, 65));
  const problems = log.verify();
  t.deepEqual(problems.map((q) => [q.file, q.offset, q.id]), [[p.data, dataOffset, 2], [p.meta, metaOffset, 4]]);
});

test('a damaged index entry in the middle is a CORRUPTION error, not a truncation', (t) => {
  const dir = tempDir(t);
  build(dir, 6);
  const p = segmentPaths(dir, 0);
  const index = fs.readFileSync(p.index);
  index[2 * ENTRY_SIZE + 9]! ^= 0x40;
  fs.writeFileSync(p.index, index);
  const log = PartitionLog.open(dir, 0);
  t.teardown(() => log.close());
  t.is(log.recovery, null);
  t.is(log.endId, 6, 'the entries after the damaged one are kept');
  const err = t.throws(() => log.read(2), { instanceOf: StorageError })!;
  t.is(err.code, 'CORRUPTION');
  t.is(err.details.file, p.index);
  t.is(err.details.offset, 2 * ENTRY_SIZE);
  t.deepEqual(Buffer.from(log.read(3).metadata), metaOf(7, 3));
  t.deepEqual(log.verify().map((q) => [q.file, q.offset]), [[p.index, 2 * ENTRY_SIZE]]);
  t.is(fs.statSync(p.index).size, 6 * ENTRY_SIZE, 'nothing was cut');
});

test('in a segment of more than a window of entries, a torn tail longer than the first short look is cut at the last valid entry, and damage below it is reported when read', (t) => {
  // 9,000 entries (more than WINDOW_ENTRIES): opening looks at the last 256 first, then a window at a time below.
  const dir = tempDir(t);
  const n = 9000;
  const writer = PartitionLog.open(dir, 0);
  const batch: AppendEvent[] = [];
  for (let i = 0; i < n; i++) batch.push({ metadata: metaOf(8, i) });
  writer.append(batch);
  writer.close();
  const p = segmentPaths(dir, 0);
  const index = fs.readFileSync(p.index);
  // The last 300 entries torn (checksums broken), and one entry 1,000 below them damaged.
  for (let i = n - 300; i < n; i++) index[i * ENTRY_SIZE + 44]! ^= 0xff;
  index[(n - 1300) * ENTRY_SIZE + 3]! ^= 0x01;
  fs.writeFileSync(p.index, index);
  pointFromEarlierBoot(dir, n - 300); // after a reboot, the last 300 were never durable: a torn tail
  const log = PartitionLog.open(dir, 0);
  t.teardown(() => log.close());
  t.deepEqual(log.append([{ metadata: metaOf(8, n) }]), { firstId: n - 300, count: 1 });
  t.is(log.recovery?.droppedEntries, 300);
  t.is(log.recovery?.firstCutId, n - 300);
  t.deepEqual(Buffer.from(log.read(n - 301).metadata), metaOf(8, n - 301));
  t.deepEqual(Buffer.from(log.read(n - 300).metadata), metaOf(8, n));
  const err = t.throws(() => log.read(n - 1300), { instanceOf: StorageError })!;
  t.is(err.code, 'CORRUPTION');
  t.is(err.details.offset, (n - 1300) * ENTRY_SIZE);
  t.deepEqual(log.verify().map((q) => [q.file, q.offset]), [[p.index, (n - 1300) * ENTRY_SIZE]]);
});
