// The recovery point (recovery.point): what the writer records after each batch, how readers and writers use it to
// tell a torn tail from damage to committed events, and the fallback when it is missing or damaged.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { PartitionLog } from '../../storage/partition-log.js';
import { StorageError, type FlushBehavior } from '../../storage/types.js';
import { ENTRY_SIZE } from '../../storage/index-entry.js';
import { segmentPaths, listSegmentBases } from '../../storage/segment-files.js';
import {
  RECOVERY_POINT_SIZE, currentBootId, decodeRecoveryPoint, encodeRecoveryPoint, readRecoveryPoint, recoveryPointPath,
} from '../../storage/recovery-point.js';
import { payload, metaOf, writerAndReader } from './helpers.js';
import { tempDir } from '../temp-dir.js';

const ev = (i: number) => ({ metadata: metaOf(3, i), data: payload(3, i, 200 + i) });

function pointOf(dir: string) {
  const state = readRecoveryPoint(dir);
  if (state.kind !== 'ok') throw new Error(`no valid point: ${JSON.stringify(state)}`);
  return state;
}

test('encode/decode round trip; every damaged or inconsistent record is refused with a reason', (t) => {
  const p = { firstId: 7, committedEnd: 2 ** 40, durableEnd: 9, bootId: Buffer.alloc(16, 3), timestampFloor: 1_800_000_000_123 };
  const buf = encodeRecoveryPoint(p);
  t.is(buf.length, RECOVERY_POINT_SIZE);
  t.deepEqual(decodeRecoveryPoint(buf), p);
  for (let byte = 0; byte < RECOVERY_POINT_SIZE; byte++) {
    const bad = Buffer.from(buf);
    bad[byte]! ^= 1;
    t.is(typeof decodeRecoveryPoint(bad), 'string', `flip in byte ${byte} is detected`);
  }
  t.is(typeof decodeRecoveryPoint(buf.subarray(0, 63)), 'string');
  t.regex(decodeRecoveryPoint(encodeRecoveryPoint({ ...p, durableEnd: 2 ** 41 })) as string, /inconsistent/);
  // A record of an earlier version: bytes 48..59 reserved and zero, read as "no timestamp floor recorded".
  const old = Buffer.from(buf);
  old.fill(0, 48, 60);
  old.writeUInt32LE(zlib.crc32(old.subarray(0, 60)), 60);
  t.deepEqual(decodeRecoveryPoint(old), { ...p, timestampFloor: 0 });
});

for (const mode of ['buffered', 'on_flush', 'immediate'] as FlushBehavior[]) {
  test(`the writer records the committed end after each batch; the durable end only after an fsync (${mode})`, (t) => {
    const dir = path.join(tempDir(t), 'p');
    const log = PartitionLog.open(dir, 0, { flushBehavior: mode });
    t.teardown(() => log.close());
    t.false(fs.existsSync(dir), 'opening created nothing');
    log.append([ev(0), ev(1)]);
    let s = pointOf(dir);
    t.true(s.sameBoot);
    t.true(s.point.bootId.equals(currentBootId()));
    t.is(s.point.firstId, 0);
    t.is(s.point.committedEnd, 2);
    t.is(s.point.durableEnd, mode === 'immediate' ? 2 : 0);
    log.append([ev(2)]);
    log.flush();
    s = pointOf(dir);
    t.is(s.point.committedEnd, 3);
    t.is(s.point.durableEnd, mode === 'buffered' ? 0 : 3);
  });
}

test('a missing recovery point (a topic of the earlier version): checksum-only rule, reported, re-created by the next writer', (t) => {
  const dir = tempDir(t);
  const w = PartitionLog.open(dir, 0);
  w.append([ev(0), ev(1), ev(2)]);
  w.close();
  fs.rmSync(recoveryPointPath(dir));
  // A torn entry at the tail: without a point it can only be judged by its checksum, like before.
  fs.appendFileSync(segmentPaths(dir, 0).index, Buffer.alloc(ENTRY_SIZE, 7));
  const log = PartitionLog.open(dir, 0);
  t.teardown(() => log.close());
  t.is(log.endId, 3);
  t.false(fs.existsSync(recoveryPointPath(dir)), 'a read-only open does not create it');
  t.deepEqual(log.verify().map((q) => q.file), [segmentPaths(dir, 0).index], 'only the torn entry (a missing point is how earlier versions look)');
  t.deepEqual(log.append([ev(3)]), { firstId: 3, count: 1 });
  t.is(log.recovery!.droppedEntries, 1);
  t.true(log.recovery!.notes.some((n) => n.includes('recovery.point') && n.includes('re-created')));
  t.is(pointOf(dir).point.committedEnd, 4);
});

test('an empty recovery point (created, never written: a writer killed, or out of descriptors, right then) is none, not damage', (t) => {
  const dir = tempDir(t);
  const w = PartitionLog.open(dir, 0);
  w.append([ev(0), ev(1)]);
  w.close();
  fs.writeFileSync(recoveryPointPath(dir), '');
  const log = PartitionLog.open(dir, 0);
  t.teardown(() => log.close());
  t.is(log.endId, 2);
  t.deepEqual(log.verify(), [], 'before: "recovery.point is 0 bytes long", CORRUPTION for verify');
  t.is(log.append([ev(2)]).firstId, 2);
  t.is(pointOf(dir).point.committedEnd, 3);
});

test('out of file descriptors while creating the recovery point: the push fails with IO, no empty point is left', async (t) => {
  const root = tempDir(t);
  // A child with a descriptor limit its partitions exhaust: each written partition keeps four open.
  const script = `
    import { PartitionLog } from ${JSON.stringify(new URL('../../storage/partition-log.js', import.meta.url).pathname)};
    import fs from 'node:fs';
    const logs = []; let ok = 0, failed = 0;
    for (let i = 0; i < 60; i++) {
      try {
        const log = PartitionLog.open(${JSON.stringify(root)} + '/p' + i, i);
        logs.push(log);
        log.append([{ metadata: Buffer.from('{"i":' + i + '}') }]);
        ok++;
      } catch (err) {
        failed++;
        if (err.code !== 'IO') throw err;
      }
    }
    for (const log of logs) log.close();
    console.log(JSON.stringify({ ok, failed }));
  `;
  const { spawnSync } = await import('node:child_process');
  // Each limit runs out at another step of an append; one of them lands between creating the point and its folder's fsync.
  for (let limit = 64; limit < 72; limit++) {
    fs.rmSync(root, { recursive: true, force: true });
    fs.mkdirSync(root);
    const r = spawnSync('bash', ['-c', `ulimit -n ${limit}; exec ${JSON.stringify(process.execPath)} --input-type=module -e "$0"`, script], { encoding: 'utf8' });
    t.is(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { ok: number; failed: number };
    t.true(out.ok > 0 && out.failed > 0, r.stdout);
    for (let i = 0; i < 60; i++) {
      const file = recoveryPointPath(path.join(root, `p${i}`));
      if (fs.existsSync(file)) t.is(fs.statSync(file).size, 64, `limit ${limit}, partition ${i}: a point exists whole or not at all`);
    }
  }
});

test('a damaged recovery point is rewritten whole (garbage after it is cut) by the next writer', (t) => {
  const dir = tempDir(t);
  const w = PartitionLog.open(dir, 0);
  w.append([ev(0)]);
  w.close();
  fs.appendFileSync(recoveryPointPath(dir), Buffer.alloc(10, 1));
  t.is(readRecoveryPoint(dir).kind, 'invalid');
  const log = PartitionLog.open(dir, 0);
  t.teardown(() => log.close());
  log.append([ev(1)]);
  t.is(fs.statSync(recoveryPointPath(dir)).size, RECOVERY_POINT_SIZE);
  t.is(pointOf(dir).point.committedEnd, 2);
});

test('deleting the first segment\'s index: the partition still starts at 0, its ids read as CORRUPTION, appends are refused', (t) => {
  const dir = tempDir(t);
  const w = PartitionLog.open(dir, 0, { segmentBytes: 2000 });
  for (let i = 0; i < 30; i++) w.append([ev(i)]);
  w.close();
  const bases = listSegmentBases(dir);
  t.true(bases.length >= 3);
  const first = segmentPaths(dir, 0);
  fs.rmSync(first.index);
  const log = PartitionLog.open(dir, 0, { segmentBytes: 2000 });
  t.teardown(() => log.close());
  t.is(log.startId, 0, 'a consumer that acknowledged an id of the first segment resumes right after it');
  t.is(log.endId, 30);
  const err = t.throws(() => log.read(1), { instanceOf: StorageError })!;
  t.is(err.code, 'CORRUPTION');
  t.is(err.details.file, first.index);
  t.is(err.details.offset, ENTRY_SIZE);
  t.deepEqual(Buffer.from(log.read(bases[1]!).metadata), metaOf(3, bases[1]!), 'later segments still read');
  const push = t.throws(() => log.append([ev(99)]), { instanceOf: StorageError })!;
  t.is(push.code, 'CORRUPTION');
  t.is(push.details.file, first.index);
  t.true(log.verify().some((q) => q.file === first.index && /missing/.test(q.message)));
});

test('a truncated last index in the same boot: the end stays, the lost ids read as CORRUPTION, pushes are refused (immediate too)', (t) => {
  for (const mode of ['buffered', 'immediate'] as FlushBehavior[]) {
    const dir = tempDir(t);
    const w = PartitionLog.open(dir, 0, { flushBehavior: mode });
    for (let i = 0; i < 10; i++) w.append([ev(i)]);
    w.close();
    const p = segmentPaths(dir, 0);
    fs.truncateSync(p.index, 6 * ENTRY_SIZE + 5);
    const reader = PartitionLog.open(dir, 0);
    t.is(reader.endId, 10);
    t.deepEqual(Buffer.from(reader.read(5).data()), payload(3, 5, 205));
    const err = t.throws(() => reader.read(7), { instanceOf: StorageError })!;
    t.is(err.code, 'CORRUPTION');
    t.is(err.details.file, p.index);
    t.is(err.details.offset, 7 * ENTRY_SIZE);
    t.is(t.throws(() => reader.readRange(6, 4), { instanceOf: StorageError })!.code, 'CORRUPTION');
    const push = t.throws(() => reader.append([ev(10)]), { instanceOf: StorageError })!;
    t.is(push.code, 'CORRUPTION');
    t.is(fs.statSync(p.index).size, 6 * ENTRY_SIZE + 5, 'nothing was cut');
    reader.close();
  }
});

test('after a reboot, bad entries above the durable end are a torn tail (cut); below it they are CORRUPTION', (t) => {
  for (const durableEnd of [6, 8]) {
    const dir = tempDir(t);
    const w = PartitionLog.open(dir, 0);
    for (let i = 0; i < 10; i++) w.append([ev(i)]);
    w.close();
    const s = pointOf(dir);
    fs.writeFileSync(recoveryPointPath(dir), encodeRecoveryPoint({ ...s.point, durableEnd, bootId: Buffer.alloc(16, 0xee) }));
    // A power loss kept the first 7 entries only.
    fs.truncateSync(segmentPaths(dir, 0).index, 7 * ENTRY_SIZE);
    const log = PartitionLog.open(dir, 0);
    if (durableEnd <= 7) {
      t.is(log.endId, 7);
      t.deepEqual(log.append([ev(7)]), { firstId: 7, count: 1 });
      t.is(log.recovery!.firstCutId, 7, 'the events lost in the power loss are reported');
      t.is(log.recovery!.droppedEntries, 3);
      t.is(pointOf(dir).point.committedEnd, 8);
      t.true(pointOf(dir).sameBoot, 're-stamped with this boot');
    } else {
      t.is(log.endId, 8);
      t.is(t.throws(() => log.read(7), { instanceOf: StorageError })!.code, 'CORRUPTION');
      t.is(t.throws(() => log.append([ev(7)]), { instanceOf: StorageError })!.code, 'CORRUPTION');
    }
    log.close();
  }
});

test('a reader never takes a live writer\'s entries for damage: the point is read before the index', (t) => {
  const dir = tempDir(t);
  const { writer, reader } = writerAndReader(t, dir);
  for (let i = 0; i < 300; i++) {
    writer.append([ev(i)]);
    t.is(reader.refresh(), i + 1);
  }
  t.deepEqual(reader.verify(), []);
});
