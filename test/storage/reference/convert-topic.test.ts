// Converting topics between the native format and the C++ reference's files layout keeps every event.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { convertTopic } from '../../../storage/convert-topic.js';
import { openTopicStore, topicStoreFormat } from '../../../storage/open-topic.js';
import { TopicStore } from '../../../storage/topic-store.js';
import { StorageError, type TopicStoreLike } from '../../../storage/types.js';
import { FIXTURE_ROOT, copyFixtureRoot, loadExpected, removeTemp, sha256, treeDigest } from './reference-fixture.js';

interface Flat {
  partition: number;
  id: number;
  metadata: string;
  dataSha: string;
  dataSize: number;
}

function flatten(store: TopicStoreLike): Flat[] {
  const out: Flat[] = [];
  for (let p = 0; p < store.numPartitions; p++) {
    for (const e of store.partition(p).readRange(0, 1_000_000)) {
      out.push({ partition: p, id: e.id, metadata: Buffer.from(e.metadata).toString('hex'), dataSha: sha256(e.data()), dataSize: e.dataSize });
    }
  }
  return out;
}


test('reference -> native -> reference reproduces the C++ fixture events and its exact files', (t) => {
  const root = copyFixtureRoot();
  try {
    const expected = loadExpected();
    for (const topic of ['collisions', 'strings', 'empty']) {
      const src = openTopicStore(root, topic);
      const progress: number[] = [];
      const r1 = convertTopic(src, root, `${topic}-native`, 'native', { batchEvents: 5, batchBytes: 4096, onProgress: (p) => progress.push(p.copied) });
      const total = expected.topics[topic]!.partitions.reduce((s, p) => s + p.num_events, 0);
      t.is(r1.totalEvents, total);
      t.deepEqual(r1.events, expected.topics[topic]!.partitions.map((p) => p.num_events));
      if (total > 0) t.true(progress.length > 1, 'copied in several batches');
      t.is(topicStoreFormat(root, `${topic}-native`), 'native');
      const native = openTopicStore(root, `${topic}-native`);
      t.deepEqual(native.manifest.components, src.manifest.components);
      t.deepEqual(flatten(native), flatten(src));
      // Every event as the C++ consumer read it.
      for (const part of expected.topics[topic]!.partitions) {
        native.partition(part.partition).readRange(0, 1000).forEach((e, i) => {
          t.is(Buffer.from(e.metadata).toString(), part.events[i]!.metadata_compact);
          t.is(sha256(e.data()), part.events[i]!.data_sha256);
          t.is(e.timestamp, 0, 'the reference format has no timestamps');
        });
        t.deepEqual(native.partition(part.partition).verify(), []);
      }
      const r2 = convertTopic(native, root, `${topic}-back`, 'reference');
      t.is(r2.totalEvents, total);
      native.close();
      src.close();
      t.deepEqual(treeDigest(path.join(root, `${topic}-back`)), treeDigest(path.join(FIXTURE_ROOT, topic)), `${topic}: files byte-identical`);
    }
  } finally {
    removeTemp(root);
  }
});

test('native -> reference -> native keeps partitions, ids, metadata and data bytes', (t) => {
  const root = copyFixtureRoot();
  try {
    const src = TopicStore.create(root, 'orig', {
      numPartitions: 3,
      components: { validator: { type: 'schema', schema: { type: 'object' } }, serializer: { type: 'default' }, partitionSelector: { type: 'default' } },
    });
    let k = 0;
    for (let round = 0; round < 40; round++) {
      for (let p = 0; p < 3; p++) {
        const batch = Array.from({ length: (round % 4) + 1 }, () => {
          k++;
          const data = new Uint8Array((k * 131) % 5000).map((_, j) => (k + j * 13) & 0xff);
          return { metadata: new TextEncoder().encode(JSON.stringify({ k, p, s: 'é✓'.repeat(k % 3) })), data: k % 7 === 0 ? [data.subarray(0, 10), data.subarray(10)] : data, timestamp: 1_700_000_000_000 + k };
        });
        src.partition(p).append(batch);
      }
    }
    const before = flatten(src);
    const r1 = convertTopic(src, root, 'as-ref', 'reference', { batchEvents: 17 });
    t.is(r1.totalEvents, before.length);
    const ref = openTopicStore(root, 'as-ref');
    t.is(ref.manifest.format, 'reference');
    t.deepEqual(ref.manifest.components, src.manifest.components);
    t.deepEqual(flatten(ref), before);
    for (let p = 0; p < 3; p++) t.deepEqual(ref.partition(p).verify(), []);
    const r2 = convertTopic(ref, root, 'round-trip', 'native');
    t.is(r2.totalEvents, before.length);
    const back = openTopicStore(root, 'round-trip');
    t.deepEqual(flatten(back), before);
    t.deepEqual(back.manifest.components, src.manifest.components);
    back.close();
    ref.close();
    src.close();
  } finally {
    removeTemp(root);
  }
});

test('convert errors: existing target, unstorable components, a corrupt source removes the partial copy', (t) => {
  const root = copyFixtureRoot();
  try {
    const src = openTopicStore(root, 'collisions');
    const code = (f: () => unknown): string => (t.throws(f, { instanceOf: StorageError }) as StorageError).code;
    t.is(code(() => convertTopic(src, root, 'strings', 'native')), 'TOPIC_EXISTS');
    t.is(code(() => convertTopic(src, root, 'x', 'native', { batchEvents: 0 })), 'BAD_CONFIG');
    t.throws(() => convertTopic(src, root, 'x', 'json' as 'native'), { instanceOf: TypeError });
    src.close();
    const odd = TopicStore.create(root, 'odd', { numPartitions: 1, components: { custom: { x: 1 } } });
    t.is(code(() => convertTopic(odd, root, 'odd-ref', 'reference')), 'BAD_CONFIG');
    t.is(topicStoreFormat(root, 'odd-ref'), null);
    odd.close();
    // Damage event 20 of collisions partition 1 in the middle: the copy fails and leaves nothing behind.
    const idx = path.join(root, 'collisions', 'partitions', '00000001', 'index');
    const bytes = fs.readFileSync(idx);
    bytes.writeBigUInt64LE(1n << 40n, 20 * 32 + 24);
    fs.writeFileSync(idx, bytes);
    const damaged = openTopicStore(root, 'collisions');
    t.is(code(() => convertTopic(damaged, root, 'copy', 'native', { batchEvents: 8 })), 'CORRUPTION');
    t.false(fs.existsSync(path.join(root, 'copy')));
    damaged.close();
  } finally {
    removeTemp(root);
  }
});
