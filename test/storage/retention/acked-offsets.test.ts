// retention_acked_by against damaged offset files: a damaged file of a consumer the policy waits for never counts as
// "acknowledged everything" (the trim of that partition fails, nothing removed); a damaged file of a consumer the
// policy does not list is none of the trim's business.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { ConsumerOffsets, offsetFilePath } from '../../../storage/consumer-offsets.js';
import { TopicTrimError, trimTopic } from '../../../storage/retention/trim-topic.js';
import { listSegmentBases, partitionDirName } from '../../../storage/segment-files.js';
import { StorageError } from '../../../storage/types.js';
import { events, makeTopic } from './retention-fixture.js';

function acknowledge(dir: string, name: string, lastAckedId: number): void {
  const offsets = ConsumerOffsets.open(dir, name, { flushBehavior: 'immediate' });
  try {
    offsets.store(0, lastAckedId);
  } finally {
    offsets.close();
  }
}

test('a damaged offset file of a consumer the policy does not list does not stop the trims the listed ones allow', (t) => {
  const { store, dir } = makeTopic(t, { keepUntilAckedBy: ['a'] });
  store.partition(0).append(events(0, 40, 1000));
  acknowledge(store.dir, 'a', 19);
  acknowledge(store.dir, 'other', 3);
  fs.writeFileSync(offsetFilePath(store.dir, 'other', 0), Buffer.alloc(64, 0xff)); // both slots damaged
  const [r] = trimTopic(store);
  t.is(r!.firstId, 20, "what 'a' acknowledged goes");
  t.is(listSegmentBases(dir)[0], 20);
});

test("a damaged offset file of a listed consumer is CORRUPTION for the trim, never 'acknowledged everything'", (t) => {
  for (const wanted of [['a'], '*'] as const) {
    const { store, dir } = makeTopic(t, { keepUntilAckedBy: wanted });
    store.partition(0).append(events(0, 40, 1000));
    acknowledge(store.dir, 'a', 19);
    const file = offsetFilePath(store.dir, 'a', 0);
    fs.writeFileSync(file, Buffer.alloc(64, 0xff));
    const err = t.throws(() => trimTopic(store), { instanceOf: StorageError }, String(wanted));
    t.is(err?.code, 'CORRUPTION');
    t.is(listSegmentBases(dir)[0], 0, 'nothing removed');
    t.is(store.partition(0).startId, 0);
    // Slot 0 damaged beside a never-written slot 1: offset files are created whole, so this is damage too.
    const torn = Buffer.alloc(64);
    torn.fill(0x5a, 0, 20);
    fs.writeFileSync(file, torn);
    t.is((t.throws(() => trimTopic(store)) as StorageError).code, 'CORRUPTION', String(wanted));
    t.is(listSegmentBases(dir)[0], 0);
    // A truncated file (a few bytes) is damage too.
    fs.writeFileSync(file, Buffer.alloc(10, 1));
    t.is((t.throws(() => trimTopic(store)) as StorageError).code, 'CORRUPTION');
    t.is(listSegmentBases(dir)[0], 0);
  }
});

test("a deleted consumer stops holding segments under '*', but a listed one holds everything again (as one never started)", (t) => {
  for (const wanted of [['a', 'b'], '*'] as const) {
    const { store } = makeTopic(t, { keepUntilAckedBy: wanted });
    store.partition(0).append(events(0, 40, 1000));
    acknowledge(store.dir, 'a', 35);
    acknowledge(store.dir, 'b', 11);
    t.is(trimTopic(store)[0]!.firstId, 12, String(wanted));
    t.true(ConsumerOffsets.remove(store.dir, 'b'));
    t.is(trimTopic(store)[0]!.firstId, wanted === '*' ? 36 : 12, String(wanted));
  }
});

test("'*': a damaged offset file of another partition does not stop this partition's trims", (t) => {
  const { store, root } = makeTopic(t, { keepUntilAckedBy: '*' }, 2);
  for (const p of [0, 1]) store.partition(p).append(events(0, 40, 1000));
  const offsets = ConsumerOffsets.open(store.dir, 'a', { flushBehavior: 'immediate' });
  offsets.store(0, 19);
  offsets.store(1, 19);
  offsets.close();
  fs.writeFileSync(offsetFilePath(store.dir, 'a', 1), Buffer.alloc(64, 0xff));
  const err = t.throws(() => trimTopic(store), { instanceOf: TopicTrimError });
  t.is(err?.code, 'CORRUPTION');
  t.deepEqual(err?.details.partitions, [1], 'only the partition whose offset file is damaged fails');
  t.deepEqual(err?.results.map((r) => [r.partition, r.firstId]), [[0, 20]]);
  t.is(listSegmentBases(path.join(root, 't', 'partitions', partitionDirName(1)))[0], 0, 'partition 1: nothing removed');
});
