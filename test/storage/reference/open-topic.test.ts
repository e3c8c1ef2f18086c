// Opening, listing, creating and removing topics of either format under one root.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import {
  createTopicStore,
  listTopicStores,
  openTopicStore,
  removeTopicStore,
  topicStoreExists,
  topicStoreFormat,
} from '../../../storage/open-topic.js';
import { TopicStore } from '../../../storage/topic-store.js';
import { ReferenceTopicStore } from '../../../storage/reference/reference-topic-store.js';
import { StorageError } from '../../../storage/types.js';
import { copyFixtureRoot, removeTemp } from './reference-fixture.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

test('native and reference topics side by side: detected, listed, opened, created and removed', (t) => {
  const root = copyFixtureRoot();
  try {
    TopicStore.create(root, 'native1', { numPartitions: 2, components: { validator: { type: 'default' } } }).close();
    fs.mkdirSync(path.join(root, '.hidden-tmp', 'partitions'), { recursive: true });
    fs.mkdirSync(path.join(root, 'not-a-topic'));
    fs.writeFileSync(path.join(root, 'not-a-topic', 'notes.txt'), 'somebody else\'s');
    fs.mkdirSync(path.join(root, 'empty-folder'));
    fs.writeFileSync(path.join(root, 'a-file'), 'x');
    t.deepEqual(listTopicStores(root), [
      { name: 'collisions', format: 'reference' },
      { name: 'empty', format: 'reference' },
      { name: 'native1', format: 'native' },
      { name: 'strings', format: 'reference' },
    ]);
    t.is(topicStoreFormat(root, 'native1'), 'native');
    t.is(topicStoreFormat(root, 'strings'), 'reference');
    t.is(topicStoreFormat(root, 'not-a-topic'), null);
    t.true(topicStoreExists(root, 'collisions'));
    t.false(topicStoreExists(root, 'nope'));

    // Consumer offsets live in `<topic>/consumers/`, beside the reference's files: the topic is still recognised.
    fs.mkdirSync(path.join(root, 'collisions', 'consumers', 'dashboard'), { recursive: true });
    t.is(topicStoreFormat(root, 'collisions'), 'reference');
    const ref = openTopicStore(root, 'collisions');
    t.is(ref.numPartitions, 2);
    t.true(ref instanceof ReferenceTopicStore);
    t.is(ref.manifest.format, 'reference');
    t.is(ref.partition(1).endId, 24);
    ref.close();
    const nat = openTopicStore(root, 'native1', { flushBehavior: 'on_flush', repairOnOpen: 'never' });
    t.true(nat instanceof TopicStore);
    t.is(nat.manifest.format, 'native');
    t.is(nat.numPartitions, 2);
    nat.close();

    const code = (f: () => unknown): string => (t.throws(f, { instanceOf: StorageError }) as StorageError).code;
    t.is(code(() => openTopicStore(root, 'nope')), 'TOPIC_NOT_FOUND');
    t.is(code(() => openTopicStore(root, 'not-a-topic')), 'TOPIC_NOT_FOUND');
    t.is(code(() => openTopicStore(root, '..')), 'BAD_NAME');
    t.throws(() => openTopicStore(7 as unknown as string, 'x'), { instanceOf: TypeError });
    // A topic of one format is never created inside a folder of the other (or any folder).
    t.is(code(() => createTopicStore(root, 'strings', 'native', { numPartitions: 1 })), 'TOPIC_EXISTS');
    t.is(code(() => createTopicStore(root, 'native1', 'reference', { numPartitions: 1 })), 'TOPIC_EXISTS');
    t.is(code(() => createTopicStore(root, 'not-a-topic', 'native', { numPartitions: 1 })), 'TOPIC_EXISTS');
    // A folder holding no data at all is taken as what an interrupted create left: replaced.
    createTopicStore(root, 'empty-folder', 'native', { numPartitions: 1 }).close();
    t.is(topicStoreFormat(root, 'empty-folder'), 'native');
    t.false(fs.existsSync(path.join(root, 'strings', 'topic.json')));
    t.throws(() => createTopicStore(root, 'x', 'other' as 'native', { numPartitions: 1 }), { instanceOf: TypeError });

    const made = createTopicStore(root, 'made-ref', 'reference', { numPartitions: 1 });
    made.partition(0).append([{ metadata: enc('{"a":1}') }]);
    made.close();
    t.is(topicStoreFormat(root, 'made-ref'), 'reference');
    removeTopicStore(root, 'made-ref');
    removeTopicStore(root, 'native1');
    t.is(code(() => removeTopicStore(root, 'native1')), 'TOPIC_NOT_FOUND');
    removeTopicStore(root, 'empty-folder');
    t.deepEqual(listTopicStores(root).map((x) => x.name), ['collisions', 'empty', 'strings']);
    t.deepEqual(listTopicStores(path.join(root, 'missing-root')), []);
  } finally {
    removeTemp(root);
  }
});
