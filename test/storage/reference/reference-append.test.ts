// Appending in the reference format: existing bytes stay, new records follow the reference's format exactly,
// and a topic built here from the producer log is byte-identical to the one the C++ library wrote.
import test from 'ava';
import fs from 'node:fs';
import { WRITER_LOCK_FOLDER } from '../../../storage/writer-lock.js';
import path from 'node:path';
import { ReferenceTopicStore } from '../../../storage/reference/reference-topic-store.js';
import { StorageError, type AppendEvent } from '../../../storage/types.js';
import {
  FIXTURE_ROOT,
  collisionsData,
  copyFixtureRoot,
  decodeIndexFile,
  loadExpected,
  loadProducerLog,
  partitionFile,
  removeTemp,
  sha256,
  sortedCompactJson,
  treeDigest,
} from './reference-fixture.js';
import { tempDir } from '../../temp-dir.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

test('appending to a C++-written topic keeps its bytes and writes records in the reference format', (t) => {
  const root = copyFixtureRoot();
  try {
    const files = ['index', 'metadata', 'data'] as const;
    const before = Object.fromEntries(files.map((f) => [f, fs.readFileSync(partitionFile(root, 'collisions', 1, f))]));
    const store = ReferenceTopicStore.open(root, 'collisions');
    const log = store.partition(1);
    const batch: AppendEvent[] = [
      { metadata: enc('{"k":100,"note":"ts"}'), data: enc('hello') },
      { metadata: enc('"no data"') },
      { metadata: enc('{"k":102}'), data: [enc('ab'), new Uint8Array(0), enc('cde')] },
    ];
    const r = log.append(batch);
    t.deepEqual(r, { firstId: 24, count: 3 });
    t.is(log.append([{ metadata: enc('{"k":103}'), data: new Uint8Array(1000).fill(7) }]).firstId, 27);
    store.close();

    const after = Object.fromEntries(files.map((f) => [f, fs.readFileSync(partitionFile(root, 'collisions', 1, f))]));
    for (const f of files) {
      t.deepEqual(after[f]!.subarray(0, before[f]!.length), before[f]!, `${f}: original bytes unchanged`);
    }
    // Hand-decode the new entries.
    const entries = decodeIndexFile(after.index!);
    t.is(after.index!.length, 28 * 32);
    let mOff = before.metadata!.length;
    let dOff = before.data!.length;
    const want = [
      { md: '{"k":100,"note":"ts"}', data: Buffer.from('hello') },
      { md: '"no data"', data: Buffer.alloc(0) },
      { md: '{"k":102}', data: Buffer.from('abcde') },
      { md: '{"k":103}', data: Buffer.alloc(1000, 7) },
    ];
    want.forEach((w, i) => {
      const e = entries[24 + i]!;
      const mdBytes = Buffer.from(w.md);
      t.deepEqual(e, { metadataOffset: mOff, metadataSize: mdBytes.length + 8, dataOffset: dOff, dataSize: w.data.length });
      t.is(Number(after.metadata!.readBigUInt64LE(mOff)), mdBytes.length, 'u64 LE length prefix');
      t.deepEqual(after.metadata!.subarray(mOff + 8, mOff + 8 + mdBytes.length), mdBytes);
      t.deepEqual(after.data!.subarray(dOff, dOff + w.data.length), w.data);
      mOff += mdBytes.length + 8;
      dOff += w.data.length; // zero-length data: offset = current end of data, nothing written
    });
    t.is(after.metadata!.length, mOff);
    t.is(after.data!.length, dOff);

    // Read back through a fresh handle: old events intact, new ones as appended.
    const again = ReferenceTopicStore.open(root, 'collisions');
    const events = again.partition(1).readRange(0, 100);
    t.is(events.length, 28);
    const exp = loadExpected().topics.collisions!.partitions[1]!.events;
    exp.forEach((x, i) => {
      t.is(Buffer.from(events[i]!.metadata).toString(), x.metadata_compact);
      t.is(sha256(events[i]!.data()), x.data_sha256);
    });
    want.forEach((w, i) => {
      t.is(Buffer.from(events[24 + i]!.metadata).toString(), w.md);
      t.deepEqual(Buffer.from(events[24 + i]!.data()), w.data);
    });
    t.deepEqual(again.partition(1).verify(), []);
    // Besides our writer lock's folder (it stays once used: docs/locks.md), only the reference's three files.
    again.close();
    t.deepEqual(fs.readdirSync(path.dirname(partitionFile(root, 'collisions', 1, 'index'))).sort(), ['data', 'index', 'metadata', WRITER_LOCK_FOLDER]);
    t.deepEqual(fs.readdirSync(path.join(root, 'collisions', 'partitions')).sort(), ['00000000', '00000001']);
  } finally {
    removeTemp(root);
  }
});

/** Replays the producer log's pushes of `topic` into a fresh reference topic created here. */
function replay(root: string, topic: string, numPartitions: number): void {
  const store = ReferenceTopicStore.create(root, topic, { numPartitions });
  try {
    const pushes = loadProducerLog().filter((r) => r.topic === topic);
    // The reference producer batched 4 pushes per partition; batching does not change the bytes.
    for (let i = 0; i < pushes.length; i += 3) {
      for (const rec of pushes.slice(i, i + 3)) {
        const data = topic === 'collisions' ? collisionsData(rec.seq) : new Uint8Array(0);
        if (sha256(data) !== rec.data_sha256) throw new Error(`data of seq ${rec.seq} does not match the producer log`);
        const r = store.partition(rec.predicted_partition).append([{ metadata: enc(sortedCompactJson(rec.metadata)), data }]);
        if (r.firstId !== rec.returned_id) throw new Error(`seq ${rec.seq}: id ${r.firstId}, reference returned ${rec.returned_id}`);
      }
    }
  } finally {
    store.close();
  }
}


for (const [topic, n] of [['strings', 1], ['collisions', 2], ['empty', 3]] as const) {
  test(`a ${topic} topic created and filled here is byte-identical to the one the C++ library wrote`, (t) => {
    const dir = tempDir(t);
    try {
      const root = path.join(dir, 'root');
      if (topic === 'empty') ReferenceTopicStore.create(root, topic, { numPartitions: n }).close();
      else replay(root, topic, n);
      const ours = treeDigest(path.join(root, topic));
      const theirs = treeDigest(path.join(FIXTURE_ROOT, topic));
      t.deepEqual([...ours.keys()].sort(), [...theirs.keys()].sort());
      for (const [name, bytes] of theirs) t.deepEqual(ours.get(name), bytes, name);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('create: layout, component files as the reference writes them, and typed errors', (t) => {
  const dir = tempDir(t);
  try {
    const root = path.join(dir, 'root');
    const store = ReferenceTopicStore.create(root, 'made', {
      numPartitions: 2,
      components: { validator: { type: 'schema', schema: { type: 'object', required: ['x'] } }, partitionSelector: {} },
    });
    t.is(store.numPartitions, 2);
    t.deepEqual(store.manifest.components, {
      validator: { schema: { required: ['x'], type: 'object' }, type: 'schema' },
      serializer: { type: 'default' },
      partitionSelector: {},
    });
    store.close();
    const topicDir = path.join(root, 'made');
    t.is(
      fs.readFileSync(path.join(topicDir, 'validator.json'), 'utf8'),
      '{\n  "schema": {\n    "required": [\n      "x"\n    ],\n    "type": "object"\n  },\n  "type": "schema"\n}',
    );
    t.is(fs.readFileSync(path.join(topicDir, 'serializer.json'), 'utf8'), '{\n  "type": "default"\n}');
    t.is(fs.readFileSync(path.join(topicDir, 'partition-selector.json'), 'utf8'), '{}');
    for (const p of ['00000000', '00000001']) {
      t.deepEqual(fs.readdirSync(path.join(topicDir, 'partitions', p)).filter((f) => f !== WRITER_LOCK_FOLDER).sort(), ['data', 'index', 'metadata']);
    }
    t.deepEqual(fs.readdirSync(root), ['made'], 'no temporary folder left behind');
    const code = (f: () => unknown): string => (t.throws(f, { instanceOf: StorageError }) as StorageError).code;
    t.is(code(() => ReferenceTopicStore.create(root, 'made', { numPartitions: 1 })), 'TOPIC_EXISTS');
    t.is(code(() => ReferenceTopicStore.create(root, 'a/b', { numPartitions: 1 })), 'BAD_NAME');
    t.is(code(() => ReferenceTopicStore.create(root, '.hidden', { numPartitions: 1 })), 'BAD_NAME');
    t.is(code(() => ReferenceTopicStore.create(root, 'zero', { numPartitions: 0 })), 'BAD_CONFIG');
    t.is(code(() => ReferenceTopicStore.create(root, 'half', { numPartitions: 1.5 })), 'BAD_CONFIG');
    t.is(code(() => ReferenceTopicStore.create(root, 'extra', { numPartitions: 1, components: { other: {} } })), 'BAD_CONFIG');
    t.deepEqual(fs.readdirSync(root), ['made'], 'failed creations leave nothing');
    ReferenceTopicStore.remove(root, 'made');
    t.deepEqual(fs.readdirSync(root), []);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('append: big batches and many data pieces (beyond IOV_MAX), input checks, empty batch', (t) => {
  const dir = tempDir(t);
  try {
    const root = path.join(dir, 'root');
    for (const flushBehavior of ['buffered', 'on_flush', 'immediate'] as const) {
      const store = ReferenceTopicStore.create(root, `t-${flushBehavior}`, { numPartitions: 1 }, { flushBehavior });
      const log = store.partition(0);
      const many = Array.from({ length: 3000 }, (_, i) => ({ metadata: enc(`{"i":${i}}`), data: enc(`d${i}`) }));
      t.deepEqual(log.append(many), { firstId: 0, count: 3000 });
      const pieces = Array.from({ length: 2500 }, (_, i) => new Uint8Array([i & 0xff]));
      t.deepEqual(log.append([{ metadata: enc('{}'), data: pieces }]), { firstId: 3000, count: 1 });
      log.flush();
      t.deepEqual(log.append([]), { firstId: 3001, count: 0 });
      t.throws(() => log.append([{ metadata: 'text' as unknown as Uint8Array }]), { instanceOf: TypeError });
      t.throws(() => log.append([{ metadata: enc('{}'), data: ['x'] as unknown as Uint8Array[] }]), { instanceOf: TypeError });
      t.throws(() => log.append({} as unknown as AppendEvent[]), { instanceOf: TypeError });
      t.is(log.endId, 3001, 'a rejected batch writes nothing');
      const check = ReferenceTopicStore.open(root, `t-${flushBehavior}`).partition(0);
      t.is(check.endId, 3001);
      t.is(Buffer.from(check.read(2999).metadata).toString(), '{"i":2999}');
      t.is(Buffer.from(check.read(2999).data()).toString(), 'd2999');
      t.deepEqual(Buffer.from(check.read(3000).data()), Buffer.from(pieces.map((p) => p[0]!)));
      t.deepEqual(check.verify(), []);
      check.close();
      store.close();
      t.is(t.throws(() => log.append(many), { instanceOf: StorageError })!.code, 'CLOSED');
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('two handles in one process append in turn with dense ids (the end is re-read under the lock)', async (t) => {
  const dir = tempDir(t);
  try {
    const root = path.join(dir, 'root');
    ReferenceTopicStore.create(root, 'two', { numPartitions: 1 }).close();
    const a = ReferenceTopicStore.open(root, 'two');
    const b = ReferenceTopicStore.open(root, 'two');
    const ids: number[] = [];
    for (let i = 0; i < 20; i++) {
      const store = i % 2 === 0 ? a : b;
      ids.push(store.partition(0).append([{ metadata: enc(`{"i":${i}}`) }]).firstId);
      // Let the event loop turn: the writer's lease on the lock ends after ~2 ms idle.
      await new Promise((r) => setTimeout(r, 10));
    }
    a.close();
    b.close();
    t.deepEqual(ids, Array.from({ length: 20 }, (_, i) => i));
    const check = ReferenceTopicStore.open(root, 'two');
    t.deepEqual(check.partition(0).readRange(0, 100).map((e) => Buffer.from(e.metadata).toString()), ids.map((i) => `{"i":${i}}`));
    check.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
