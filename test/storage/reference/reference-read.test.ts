// Reading topics written by the real C++ reference files driver: every event as the C++ consumer read it.
import test from 'ava';
import fs from 'node:fs';
import { WRITER_LOCK_FOLDER } from '../../../storage/writer-lock.js';
import path from 'node:path';
import { ReferenceTopicStore } from '../../../storage/reference/reference-topic-store.js';
import { StorageError } from '../../../storage/types.js';
import {
  collisionsData,
  copyFixtureRoot,
  decodeIndexFile,
  loadExpected,
  partitionFile,
  removeTemp,
  sha256,
  treeDigest,
} from './reference-fixture.js';

const expected = loadExpected();
let root = '';

test.before(() => {
  root = copyFixtureRoot();
});
test.after.always(() => {
  if (root !== '') removeTemp(root);
});

for (const topic of ['collisions', 'strings', 'empty']) {
  test(`${topic}: every event matches what the C++ consumer read (id, partition, metadata bytes, data)`, (t) => {
    const exp = expected.topics[topic]!;
    const store = ReferenceTopicStore.open(root, topic);
    try {
      t.is(store.numPartitions, exp.num_partitions);
      t.is(store.manifest.format, 'reference');
      t.is(store.manifest.formatVersion, 0);
      t.deepEqual(store.manifest.components, {
        validator: { type: 'default' },
        serializer: { type: 'default' },
        partitionSelector: { type: 'default' },
      });
      let total = 0;
      for (const part of exp.partitions) {
        const log = store.partition(part.partition);
        t.is(log.index, part.partition);
        t.is(log.endId, part.num_events);
        t.is(log.recovery, null);
        const events = log.readRange(0, 1_000_000);
        t.is(events.length, part.events.length);
        part.events.forEach((want, i) => {
          const got = events[i]!;
          t.is(got.id, want.id);
          t.is(Buffer.from(got.metadata).toString('utf8'), want.metadata_compact);
          t.deepEqual(JSON.parse(Buffer.from(got.metadata).toString('utf8')), want.metadata);
          t.is(got.dataSize, want.data_size);
          const data = got.data();
          t.is(data.length, want.data_size);
          t.is(sha256(data), want.data_sha256);
          if (want.data_hex !== undefined) t.is(Buffer.from(data).toString('hex'), want.data_hex);
          t.is(got.timestamp, 0);
          // read() and readRange() agree.
          const single = log.read(want.id);
          t.deepEqual(Buffer.from(single.metadata), Buffer.from(got.metadata));
          t.is(sha256(single.data()), want.data_sha256);
          total++;
        });
        t.deepEqual(log.verify(), []);
        const stats = log.stats();
        t.is(stats.events, part.num_events);
        t.is(stats.endId, part.num_events);
        t.is(stats.metadataBytes, fs.statSync(partitionFile(root, topic, part.partition, 'metadata')).size);
        t.is(stats.dataBytes, fs.statSync(partitionFile(root, topic, part.partition, 'data')).size);
        t.is(stats.firstTimestamp, null);
      }
      t.is(total, exp.partitions.reduce((s, p) => s + p.events.length, 0));
    } finally {
      store.close();
    }
  });
}

test('collisions: data follows the fixture formula byte for byte, and sub-ranges (selections) match', (t) => {
  const store = ReferenceTopicStore.open(root, 'collisions');
  try {
    for (let p = 0; p < 2; p++) {
      for (const ev of store.partition(p).readRange(0, 100)) {
        const k = (JSON.parse(Buffer.from(ev.metadata).toString()) as { k: number }).k;
        const want = collisionsData(k);
        const data = ev.data();
        t.deepEqual(Buffer.from(data), Buffer.from(want));
        // A strided selection (8-byte blocks every 24 bytes from offset 5) taken as views of the slice.
        for (let off = 5; off + 8 <= data.length; off += 24) {
          t.deepEqual(Buffer.from(data.subarray(off, off + 8)), Buffer.from(want.subarray(off, off + 8)));
        }
      }
    }
  } finally {
    store.close();
  }
});

test('data and metadata are zero-copy slices of shared mappings at the offsets the index gives', (t) => {
  const store = ReferenceTopicStore.open(root, 'collisions');
  try {
    const log = store.partition(1);
    const entries = decodeIndexFile(fs.readFileSync(partitionFile(root, 'collisions', 1, 'index')));
    const events = log.readRange(0, 100);
    const dataBuffers = new Set(events.filter((e) => e.dataSize > 0).map((e) => e.data().buffer));
    const metaBuffers = new Set(events.map((e) => e.metadata.buffer));
    t.is(dataBuffers.size, 1, 'every data slice views one mapping');
    t.is(metaBuffers.size, 1, 'every metadata slice views one mapping');
    const first = events.find((e) => e.dataSize > 0)!;
    const base = first.data().byteOffset - entries[first.id]!.dataOffset;
    const metaBase = events[0]!.metadata.byteOffset - (entries[0]!.metadataOffset + 8);
    events.forEach((e) => {
      t.is(e.metadata.byteOffset - metaBase, entries[e.id]!.metadataOffset + 8);
      if (e.dataSize > 0) t.is(e.data().byteOffset - base, entries[e.id]!.dataOffset);
    });
    // Same bytes as the file, without a copy: a second read returns a view of the same memory.
    t.is(log.read(3).data().buffer, events[3]!.data().buffer);
  } finally {
    store.close();
  }
});

test('reading never modifies the files (byte-identical after reading everything)', (t) => {
  const snapshot = (): Map<string, string> => treeDigest(root);
  const before = snapshot();
  for (const topic of ['collisions', 'strings', 'empty']) {
    const store = ReferenceTopicStore.open(root, topic);
    for (let p = 0; p < store.numPartitions; p++) {
      const log = store.partition(p);
      for (const e of log.readRange(0, 1000)) e.data();
      log.verify();
    }
    store.close();
  }
  t.deepEqual(snapshot(), before);
});

test('errors: out of range, bad ids, no timestamps, closed', (t) => {
  const store = ReferenceTopicStore.open(root, 'strings');
  const log = store.partition(0);
  t.is(t.throws(() => log.read(6), { instanceOf: StorageError })!.code, 'OUT_OF_RANGE');
  t.is(t.throws(() => log.read(-1), { instanceOf: StorageError })!.code, 'OUT_OF_RANGE');
  // A number that is not an id is OUT_OF_RANGE, a wrong type a TypeError; past the end is OUT_OF_RANGE (as native).
  t.is(t.throws(() => log.read(1.5), { instanceOf: StorageError })!.code, 'OUT_OF_RANGE');
  t.throws(() => log.read('1' as unknown as number), { instanceOf: TypeError });
  t.deepEqual(log.readRange(6, 10), []);
  t.is(t.throws(() => log.readRange(7, 10), { instanceOf: StorageError })!.code, 'OUT_OF_RANGE');
  t.is(log.readRange(4, 10).length, 2);
  t.is(t.throws(() => log.findByTime(0), { instanceOf: StorageError })!.code, 'UNSUPPORTED');
  t.is(t.throws(() => store.partition(1), { instanceOf: StorageError })!.code, 'OUT_OF_RANGE');
  t.is(t.throws(() => store.partition(0.5), { instanceOf: StorageError })!.code, 'OUT_OF_RANGE');
  t.is(store.partition(0), log, 'partition(i) returns the same object');
  store.close();
  t.is(t.throws(() => log.read(0), { instanceOf: StorageError })!.code, 'CLOSED');
  t.is(t.throws(() => store.partition(0), { instanceOf: StorageError })!.code, 'CLOSED');
});

test('open: missing topic, bad names, native topics and partial layouts are not reference topics', (t) => {
  t.is(t.throws(() => ReferenceTopicStore.open(root, 'nope'), { instanceOf: StorageError })!.code, 'TOPIC_NOT_FOUND');
  t.is(t.throws(() => ReferenceTopicStore.open(root, '../root'), { instanceOf: StorageError })!.code, 'BAD_NAME');
  t.throws(() => ReferenceTopicStore.open(root, 42 as unknown as string), { instanceOf: TypeError });
  t.true(ReferenceTopicStore.isReferenceTopic(path.join(root, 'collisions')));
  t.true(ReferenceTopicStore.exists(root, 'empty'));
  t.false(ReferenceTopicStore.exists(root, 'nope'));
  // A folder missing one component file is not a reference topic.
  const partial = path.join(root, 'partial');
  fs.cpSync(path.join(root, 'strings'), partial, { recursive: true });
  fs.rmSync(path.join(partial, 'serializer.json'));
  t.false(ReferenceTopicStore.isReferenceTopic(partial));
  // topic.json marks a native topic even if the reference files are there too.
  const nativeLike = path.join(root, 'native-like');
  fs.cpSync(path.join(root, 'strings'), nativeLike, { recursive: true });
  fs.writeFileSync(path.join(nativeLike, 'topic.json'), '{}');
  t.false(ReferenceTopicStore.isReferenceTopic(nativeLike));
  // A component file that is not JSON is corruption naming the file.
  const badJson = path.join(root, 'bad-json');
  fs.cpSync(path.join(root, 'strings'), badJson, { recursive: true });
  fs.writeFileSync(path.join(badJson, 'validator.json'), '{"type": ');
  const err = t.throws(() => ReferenceTopicStore.open(root, 'bad-json'), { instanceOf: StorageError })!;
  t.is(err.code, 'CORRUPTION');
  t.is(err.details.file, path.join(badJson, 'validator.json'));
  // No numeric partition folder: the reference cannot open it either.
  const noParts = path.join(root, 'no-parts');
  fs.mkdirSync(path.join(noParts, 'partitions', 'abc'), { recursive: true });
  for (const f of ['validator.json', 'serializer.json', 'partition-selector.json']) fs.writeFileSync(path.join(noParts, f), '{}');
  t.is(t.throws(() => ReferenceTopicStore.open(root, 'no-parts'), { instanceOf: StorageError })!.code, 'CORRUPTION');
  for (const d of [partial, nativeLike, badJson, noParts]) fs.rmSync(d, { recursive: true });
});

test('partition count is max numeric folder + 1 as the reference computes it; `{}` components are kept as {}', (t) => {
  const dir = path.join(root, 'sparse');
  fs.mkdirSync(path.join(dir, 'partitions', '00000002'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'partitions', 'notes'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'partitions', '1abc'), { recursive: true });
  for (const f of ['validator.json', 'serializer.json', 'partition-selector.json']) fs.writeFileSync(path.join(dir, f), '{}');
  const store = ReferenceTopicStore.open(root, 'sparse');
  t.is(store.numPartitions, 3);
  t.deepEqual(store.manifest.components, { validator: {}, serializer: {}, partitionSelector: {} });
  // Partition 0 has no folder at all: it reads as empty.
  t.is(store.partition(0).endId, 0);
  t.deepEqual(store.partition(0).readRange(0, 10), []);
  // The first append creates the folder and its files.
  t.deepEqual(store.partition(0).append([{ metadata: new TextEncoder().encode('{"p":0}') }]), { firstId: 0, count: 1 });
  store.close();
  t.deepEqual(fs.readdirSync(path.join(dir, 'partitions', '00000000')).sort(), ['data', 'index', 'metadata', WRITER_LOCK_FOLDER]);
  const reopened = ReferenceTopicStore.open(root, 'sparse');
  t.is(reopened.partition(0).endId, 1);
  reopened.close();
  fs.rmSync(dir, { recursive: true });
});
