// Review findings on retention: records read before a trim, a trim's roll lost to a power loss, partition errors of
// a topic trim, findByTime against the first id.
import test, { type ExecutionContext } from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TopicStore } from '../../../storage/topic-store.js';
import { PartitionLog } from '../../../storage/partition-log.js';
import { trimTopic } from '../../../storage/retention/trim-topic.js';
import { TRIM_KILL_ENV } from '../../../storage/retention/segment-trim.js';
import { listSegmentBases, partitionDirName, segmentPaths } from '../../../storage/segment-files.js';
import { encodeRecoveryPoint, readRecoveryPoint } from '../../../storage/recovery-point.js';
import { ConsumerOffsets } from '../../../storage/consumer-offsets.js';
import { durableAckedFloor } from '../../../storage/retention/durable-acked-floor.js';
import { StorageError, type StoredEvent } from '../../../storage/types.js';
import { exitOf, metaOf, payload } from '../helpers.js';
import { tempDir } from '../../temp-dir.js';
import { SEGMENT_BYTES, events, makeTopic } from './retention-fixture.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** A later turn of the event loop: held records re-measure their files (what a consumer delivering a batch does). */
const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

async function checkHeld(t: ExecutionContext, recs: readonly StoredEvent[], from: number): Promise<void> {
  await nextTurn();
  for (const [k, rec] of recs.entries()) {
    t.deepEqual(Buffer.from(rec.metadata), Buffer.from(metaOf(0, from + k)), `metadata of ${from + k}`);
    t.deepEqual(Buffer.from(rec.data()), payload(0, from + k, 1000), `data of ${from + k}`);
  }
}

/** Files as another process's trim leaves them after its step 1 (first id recorded), killed there. */
async function trimStoppedAfterStep1(t: ExecutionContext, root: string): Promise<void> {
  const child = fork(path.join(here, '..', 'fixtures-bin', 'trimmer.js'), [root, 't', '1'], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, [TRIM_KILL_ENV]: '1' },
  });
  t.teardown(() => void child.kill('SIGKILL'));
  t.is((await exitOf(child)).signal, 'SIGKILL');
}

test('records read before a trim by the trimming instance itself keep metadata and data', async (t) => {
  const { store } = makeTopic(t, { maxBytes: 1 });
  const log = store.partition(0);
  log.append(events(0, 20, 1000));
  const recs = log.readRange(0, 20);
  const single = log.read(3);
  const [r] = trimTopic(store);
  t.is(r!.firstId, 16);
  t.is(log.startId, 16);
  await checkHeld(t, recs, 0);
  await checkHeld(t, [single], 3);
});

test('records read before another process trimmed keep their bytes after this instance refreshes', async (t) => {
  const { store, dir } = makeTopic(t, { maxBytes: 1 });
  store.partition(0).append(events(0, 20, 1000));
  const reader = PartitionLog.open(dir, 0, { segmentBytes: SEGMENT_BYTES });
  t.teardown(() => reader.close());
  const recs = reader.readRange(0, 20);
  trimTopic(store);
  t.is(listSegmentBases(dir)[0], 16);
  reader.refresh();
  t.is(reader.startId, 16);
  await checkHeld(t, recs, 0);
  t.is((t.throws(() => reader.read(0)) as StorageError).code, 'OUT_OF_RANGE');
});

test('an age trim whose new segment is lost (crash after step 1, directory entries gone): opens, appends go on from the first id', async (t) => {
  const { root, store, dir } = makeTopic(t, { maxAgeMs: 1000 });
  store.partition(0).append(events(0, 10, 1000));
  store.close();
  await trimStoppedAfterStep1(t, root);
  const point = readRecoveryPoint(dir);
  t.true(point.kind === 'ok' && point.point.firstId === 10, 'step 1 recorded the first id 10');
  // The power loss the roll's directory fsync now prevents: segment 10's files were never durable.
  const rolled = segmentPaths(dir, 10);
  for (const f of [rolled.index, rolled.meta, rolled.data]) fs.unlinkSync(f);
  t.deepEqual(listSegmentBases(dir), [0, 4, 8]);
  const reader = PartitionLog.open(dir, 0, { segmentBytes: SEGMENT_BYTES });
  t.teardown(() => reader.close());
  t.is(reader.startId, 10);
  t.is(reader.endId, 10);
  t.deepEqual(reader.verify(), []);
  t.is((t.throws(() => reader.read(9)) as StorageError).code, 'OUT_OF_RANGE');
  const again = TopicStore.open(root, 't', { segmentBytes: SEGMENT_BYTES });
  t.teardown(() => again.close());
  // Ids are never reused: the next event is 10.
  t.is(again.partition(0).append(events(10, 2, 5000)).firstId, 10);
  t.deepEqual(listSegmentBases(dir), [10]);
  t.deepEqual(again.partition(0).verify(), []);
  t.deepEqual(Buffer.from(again.partition(0).read(11).data()), payload(0, 11, 1000));
});

test('verify counts from the first id when every segment went (no false "recovery point records" report)', (t) => {
  const { store, dir } = makeTopic(t, { maxAgeMs: 1000 });
  const log = store.partition(0);
  log.append(events(0, 10, 1000));
  t.is(trimTopic(store, { now: 10_000 })[0]!.firstId, 10);
  store.close();
  // The empty segment at the first id is gone too (e.g. removed by hand): nothing committed is missing.
  for (const f of fs.readdirSync(dir)) if (/^\d{20}\./.test(f)) fs.unlinkSync(path.join(dir, f));
  const reader = PartitionLog.open(dir, 0, { segmentBytes: SEGMENT_BYTES });
  t.teardown(() => reader.close());
  t.deepEqual(reader.verify(), []);
});

test('an old segment before a lost first segment: the report names the missing segment', (t) => {
  const { store, dir } = makeTopic(t, { maxBytes: 3 * SEGMENT_BYTES });
  store.partition(0).append(events(0, 24, 1000));
  const [r] = trimTopic(store);
  store.close();
  const first = r!.firstId;
  t.true(listSegmentBases(dir).length >= 2);
  // The segment at the first id is lost, and files of an older segment are there (its successor is past the first id).
  const lost = segmentPaths(dir, first);
  for (const f of [lost.index, lost.meta, lost.data]) fs.unlinkSync(f);
  const old = segmentPaths(dir, first - 4);
  for (const f of [old.index, old.meta, old.data]) fs.writeFileSync(f, Buffer.alloc(0));
  const reader = PartitionLog.open(dir, 0, { segmentBytes: SEGMENT_BYTES });
  t.teardown(() => reader.close());
  const problems = reader.verify();
  const named = problems.find((p) => p.file === lost.index);
  t.truthy(named, JSON.stringify(problems));
  t.regex(named!.message, new RegExp(`segment ${first} is missing`));
});

test('a topic trim goes on past a partition that fails, then throws naming it', (t) => {
  const root = tempDir(t, 'diaspora-trim-review-');
  const store = TopicStore.create(root, 't', { numPartitions: 3, retention: { maxBytes: 1 } as never }, { segmentBytes: SEGMENT_BYTES });
  t.teardown(() => store.close());
  for (let p = 0; p < 3; p++) store.partition(p).append(events(0, 12, 1000));
  store.close();
  // Partition 1 lost its first segment's index: committed ids are missing, its trim (a writer) refuses with CORRUPTION.
  fs.unlinkSync(segmentPaths(path.join(root, 't', 'partitions', partitionDirName(1)), 0).index);
  const again = TopicStore.open(root, 't', { segmentBytes: SEGMENT_BYTES });
  t.teardown(() => again.close());
  const e = t.throws(() => trimTopic(again), { instanceOf: StorageError }) as StorageError;
  t.is(e.code, 'CORRUPTION');
  t.regex(e.message, /partition 1 \(/);
  t.notRegex(e.message, /partition [02] \(/);
  t.deepEqual(e.details.partitions, [1]);
  t.is(again.partition(0).startId, 8, 'partition 0 trimmed');
  t.is(again.partition(2).startId, 8, 'partition 2 trimmed after the failing one');
});

test('keep until acknowledged: a buffered acknowledgement (not yet fsynced) counts, read at the trim; others\' files are not needed', (t) => {
  const { store } = makeTopic(t, { keepUntilAckedBy: ['a'] });
  store.partition(0).append(events(0, 20, 1000));
  const offsets = ConsumerOffsets.open(store.dir, 'a', { flushBehavior: 'buffered' });
  t.teardown(() => offsets.close());
  t.is(durableAckedFloor(store.dir, store.currentRetention(), 0), 0, 'nothing acknowledged: everything kept');
  offsets.store(0, 11);
  t.is(durableAckedFloor(store.dir, store.currentRetention(), 0), 12);
  t.is(durableAckedFloor(store.dir, store.currentRetention(), 1), 0, 'no offset file for that partition');
  t.is(trimTopic(store)[0]!.firstId, 12);
  t.is(durableAckedFloor(store.dir, { keepUntilAckedBy: ['a', 'never'] }, 0), 0, 'a named consumer that never acknowledged keeps everything');
  t.is(durableAckedFloor(store.dir, { maxAgeMs: 5 }, 0), null);
});

test('findByTime never answers an id below the first id (a segment holding ids below it)', (t) => {
  const { store, dir } = makeTopic(t, { maxBytes: 3 * SEGMENT_BYTES });
  store.partition(0).append(events(0, 20, 1000));
  const first = trimTopic(store)[0]!.firstId;
  store.close();
  // The recorded first id inside a segment instead of at its base (ids first..first+1 below it).
  const point = readRecoveryPoint(dir);
  if (point.kind !== 'ok') return t.fail('no recovery point');
  fs.writeFileSync(path.join(dir, 'recovery.point'), encodeRecoveryPoint({ ...point.point, firstId: first + 2, durableEnd: Math.max(point.point.durableEnd, first + 2) }));
  const reader = PartitionLog.open(dir, 0, { segmentBytes: SEGMENT_BYTES });
  t.teardown(() => reader.close());
  t.is(reader.startId, first + 2);
  t.is(reader.findByTime(0), first + 2);
  t.is(reader.findByTime(1000 + first + 3), first + 3);
});

test('a read racing another process\'s trim: data unlinked before this reader mapped it is OUT_OF_RANGE (onTrimmed decides), not CORRUPTION', async (t) => {
  const { root, store, dir } = makeTopic(t, { maxBytes: 1 });
  store.partition(0).append(events(0, 20, 1000));
  store.close();
  const reader = PartitionLog.open(dir, 0, { segmentBytes: SEGMENT_BYTES });
  t.teardown(() => reader.close());
  const single = PartitionLog.open(dir, 0, { segmentBytes: SEGMENT_BYTES });
  t.teardown(() => single.close());
  await trimStoppedAfterStep1(t, root);
  // What a reader sees when the trimmer unlinks segment 0's three files between its opening the .meta file and the
  // .data file (both go in the same order): index and metadata readable, data gone, first id 16 recorded.
  fs.unlinkSync(segmentPaths(dir, 0).data);
  const err = t.throws(() => reader.readRange(0, 4)) as StorageError;
  t.is(err.code, 'OUT_OF_RANGE', err.message);
  t.is((err.details as { firstId?: number }).firstId, 16);
  const one = t.throws(() => single.read(1)) as StorageError;
  t.is(one.code, 'OUT_OF_RANGE', one.message);
  t.deepEqual(Buffer.from(reader.read(16).data()), payload(0, 16, 1000));
});

test('a data file missing without a trim is still damage: records are read, their data() is CORRUPTION naming the file', (t) => {
  const { store, dir } = makeTopic(t, { maxBytes: 1 << 30 });
  store.partition(0).append(events(0, 8, 1000));
  store.close();
  fs.unlinkSync(segmentPaths(dir, 0).data);
  const reader = PartitionLog.open(dir, 0, { segmentBytes: SEGMENT_BYTES });
  t.teardown(() => reader.close());
  const recs = reader.readRange(0, 4);
  t.is(recs.length, 4);
  const err = t.throws(() => recs[1]!.data()) as StorageError;
  t.is(err.code, 'CORRUPTION');
  t.is((err.details as { file?: string }).file, segmentPaths(dir, 0).data);
  t.deepEqual(Buffer.from(reader.read(5).data()), payload(0, 5, 1000));
});

test('a policy changed while a topic trim goes through the partitions applies to each partition locked after the change', (t) => {
  const { root, store } = makeTopic(t, { maxBytes: 2 * SEGMENT_BYTES }, 3);
  for (const p of [0, 1, 2]) store.partition(p).append(events(0, 40, 1000));
  const other = TopicStore.open(root, 't', { segmentBytes: SEGMENT_BYTES });
  t.teardown(() => other.close());
  // Another process removes the policy (keep everything from now on) once partition 0 is trimmed, before the
  // trim takes partition 1's lock.
  const open = store.partition.bind(store);
  store.partition = (p: number) => {
    if (p === 1) other.setRetention(null);
    return open(p);
  };
  const [r0, r1, r2] = trimTopic(store);
  t.true(r0!.removedEvents > 0, 'partition 0 trimmed under the old policy');
  t.is(r1!.removedEvents, 0, 'the policy was gone when partition 1 was locked');
  t.is(r2!.removedEvents, 0);
  t.deepEqual([1, 2].map((p) => listSegmentBases(path.join(root, 't', 'partitions', partitionDirName(p)))[0]), [0, 0]);
});

// A trim killed between the unlinks of one segment's files (index, then metadata, then data): the state is that of a
// kill after step 1 with the first leftover segment partly removed. Readers, writers, verify and the next trim agree.
for (const policy of [{ maxBytes: 2 * SEGMENT_BYTES }, { maxAgeMs: 1000 }]) {
  for (const [gone, which] of [[['index'], 'first'], [['index', 'meta'], 'last']] as const) {
    test(`SIGKILL between the unlinks of a segment's files (${Object.keys(policy)[0]}, ${which} leftover's ${gone.join('+')} gone): one view of the partition`, async (t) => {
      const { root, store, dir } = makeTopic(t, policy);
      store.partition(0).append(events(0, 40, 1000));
      store.close();
      await trimStoppedAfterStep1(t, root);
      const point = readRecoveryPoint(dir);
      const firstId = point.kind === 'ok' ? point.point.firstId : -1;
      t.true(firstId > 0);
      const leftovers = listSegmentBases(dir).filter((b) => b < firstId);
      t.true(leftovers.length > 0);
      // Oldest first: the half-removed segment is the oldest left, the first one or the last one (the others gone).
      const half = segmentPaths(dir, which === 'first' ? leftovers[0]! : leftovers[leftovers.length - 1]!);
      for (const kind of gone) fs.unlinkSync(half[kind]);
      if (which === 'last') for (const base of leftovers.slice(0, -1)) for (const f of Object.values(segmentPaths(dir, base))) fs.unlinkSync(f);
      const reader = PartitionLog.open(dir, 0, { segmentBytes: SEGMENT_BYTES });
      t.teardown(() => reader.close());
      t.is(reader.startId, firstId);
      t.is(reader.endId, 40);
      t.deepEqual(reader.verify(), []);
      for (let id = firstId; id < 40; id++) t.deepEqual(Buffer.from(reader.read(id).data()), payload(0, id, 1000));
      t.is((t.throws(() => reader.read(firstId - 1)) as StorageError).code, 'OUT_OF_RANGE');
      const again = TopicStore.open(root, 't', { segmentBytes: SEGMENT_BYTES });
      t.teardown(() => again.close());
      trimTopic(again, { now: 1040 }); // nothing more is due: only the leftover goes
      t.deepEqual(listSegmentBases(dir).filter((b) => b < firstId), [], 'the leftovers are gone');
      t.false(fs.readdirSync(dir).some((f) => f.startsWith(path.basename(half.index, '.index'))), 'the half-removed segment too');
      t.is(again.partition(0).startId, firstId);
      t.is(again.partition(0).append(events(40, 1, 5000)).firstId, 40, 'no id reused');
      t.deepEqual(again.partition(0).verify(), []);
      reader.refresh();
      t.deepEqual(Buffer.from(reader.read(40).data()), payload(0, 40, 1000));
    });
  }
}
