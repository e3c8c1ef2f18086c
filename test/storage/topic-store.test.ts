import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TopicStore } from '../../storage/topic-store.js';
import { createTopicStore, listTopicStores, openTopicStore, removeTopicStore, topicStoreExists } from '../../storage/open-topic.js';
import { PartitionLog } from '../../storage/partition-log.js';
import { StorageError } from '../../storage/types.js';
import { metaOf } from './helpers.js';
import { tempDir } from '../temp-dir.js';

const creator = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures-bin', 'topic-creator.js');

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return err instanceof StorageError ? err.code : `not a StorageError: ${String(err)}`;
  }
  return undefined;
};

test('create writes topic.json and one folder per partition; open reads it back', (t) => {
  const root = tempDir(t);
  const store = TopicStore.create(root, 'orders', { numPartitions: 3, components: { validator: { type: 'default' } } });
  t.is(store.numPartitions, 3);
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'orders', 'topic.json'), 'utf8'));
  t.like(manifest, { formatVersion: 1, format: 'native', numPartitions: 3, components: { validator: { type: 'default' } } });
  t.is(typeof manifest.createdAt, 'number');
  t.deepEqual(fs.readdirSync(path.join(root, 'orders', 'partitions')), ['00000000', '00000001', '00000002']);
  t.deepEqual(fs.readdirSync(path.join(root, 'orders')).sort(), ['partitions', 'topic.json'], 'no temporary file left behind');
  store.partition(1).append([{ metadata: metaOf(0, 0) }]);
  t.is(store.partition(1), store.partition(1), 'same object every time');
  store.close();
  t.is(code(() => store.partition(0)), 'CLOSED');

  const again = TopicStore.open(root, 'orders');
  t.teardown(() => again.close());
  t.deepEqual(again.manifest, manifest);
  t.is(again.partition(1).endId, 1);
  t.is(again.partition(0).endId, 0);
  t.is(code(() => again.partition(3)), 'OUT_OF_RANGE');
  t.throws(() => again.partition('1' as never), { instanceOf: TypeError });
});

test('exists, list and remove', (t) => {
  const root = tempDir(t);
  t.deepEqual(TopicStore.list(root), []);
  TopicStore.create(root, 'b', { numPartitions: 1 }).close();
  TopicStore.create(root, 'a', { numPartitions: 2 }).close();
  fs.mkdirSync(path.join(root, 'not-a-topic'));
  t.deepEqual(TopicStore.list(root), ['a', 'b']);
  t.true(TopicStore.exists(root, 'a'));
  t.false(TopicStore.exists(root, 'zzz'));
  TopicStore.remove(root, 'a');
  t.false(TopicStore.exists(root, 'a'));
  t.deepEqual(TopicStore.list(root), ['b']);
  t.deepEqual(fs.readdirSync(root).sort(), ['b', 'not-a-topic']);
  t.is(code(() => TopicStore.remove(root, 'a')), 'TOPIC_NOT_FOUND');
  t.deepEqual(TopicStore.list(path.join(root, 'missing')), []);
});

test('create of an existing topic, open of a missing one, bad partition counts', (t) => {
  const root = tempDir(t);
  TopicStore.create(root, 't', { numPartitions: 1 }).close();
  t.is(code(() => TopicStore.create(root, 't', { numPartitions: 1 })), 'TOPIC_EXISTS');
  t.is(code(() => TopicStore.open(root, 'nope')), 'TOPIC_NOT_FOUND');
  for (const n of [0, -1, 1.5, 65537, Number.NaN]) t.is(code(() => TopicStore.create(root, `n${String(n).replace('.', '_')}`, { numPartitions: n })), 'BAD_CONFIG', String(n));
  t.throws(() => TopicStore.create(root, 'x', { numPartitions: '2' as never }), { instanceOf: TypeError });
  t.is(code(() => TopicStore.create(root, 'y', { numPartitions: 1 }, { flushBehavior: 'never' as never })), 'BAD_CONFIG');
  t.deepEqual(TopicStore.list(root), ['t'], 'failed creates leave nothing');
  t.deepEqual(fs.readdirSync(root), ['t']);
});

test('bad topic names are typed errors and create nothing', (t) => {
  const root = tempDir(t);
  const bad = ['', '.', '..', '../escape', 'a/b', 'a\\b', 'nul\0byte', '.hidden', 'x'.repeat(201), 'é'.repeat(101)];
  for (const name of bad) {
    t.is(code(() => TopicStore.create(root, name, { numPartitions: 1 })), 'BAD_NAME', JSON.stringify(name));
    t.is(code(() => TopicStore.open(root, name)), 'BAD_NAME');
    t.is(code(() => TopicStore.validateName(name)), 'BAD_NAME');
  }
  t.throws(() => TopicStore.validateName(42), { instanceOf: TypeError });
  t.deepEqual(fs.readdirSync(root), []);
  t.deepEqual(fs.readdirSync(path.dirname(root)).filter((f) => f === 'escape'), []);
  for (const name of ['ok', 'with space', 'dots.in.the.middle', 'x'.repeat(200), 'ünïcödé']) {
    TopicStore.create(root, name, { numPartitions: 1 }).close();
  }
  t.is(TopicStore.list(root).length, 5);
});

test('topic.json with a newer format version or another format is UNSUPPORTED; garbage is CORRUPTION', (t) => {
  const root = tempDir(t);
  TopicStore.create(root, 'v', { numPartitions: 1 }).close();
  const file = path.join(root, 'v', 'topic.json');
  const m = JSON.parse(fs.readFileSync(file, 'utf8'));
  fs.writeFileSync(file, JSON.stringify({ ...m, formatVersion: 2 }));
  t.is(code(() => TopicStore.open(root, 'v')), 'UNSUPPORTED');
  fs.writeFileSync(file, JSON.stringify({ ...m, format: 'reference' }));
  t.is(code(() => TopicStore.open(root, 'v')), 'UNSUPPORTED');
  fs.writeFileSync(file, '{ not json');
  t.is(code(() => TopicStore.open(root, 'v')), 'CORRUPTION');
});

test('a missing partition folder is CORRUPTION, not silently recreated', (t) => {
  const root = tempDir(t);
  const store = TopicStore.create(root, 'p', { numPartitions: 2 });
  t.teardown(() => store.close());
  fs.rmSync(path.join(root, 'p', 'partitions', '00000001'), { recursive: true });
  t.is(code(() => store.partition(1)), 'CORRUPTION');
  t.true(store.partition(0) instanceof PartitionLog);
});

test('a folder left at a topic name holding no data (interrupted create or delete) is replaced by createTopic; one with data is kept', (t) => {
  const root = tempDir(t);
  // What an earlier version's createTopic killed half-way, or a writer racing a deleteTopic, left: folders, no topic.json.
  fs.mkdirSync(path.join(root, 'left', 'partitions', '00000000', 'writer.lock.d'), { recursive: true });
  fs.writeFileSync(path.join(root, 'left', 'partitions', '00000000', 'writer.lock.d', '.waiter-1-x'), '');
  t.false(topicStoreExists(root, 'left'));
  const store = createTopicStore(root, 'left', 'native', { numPartitions: 2 });
  store.partition(1).append([{ metadata: metaOf(0, 0) }]);
  store.close();
  t.true(topicStoreExists(root, 'left'));
  // Anything holding a byte is not ours to remove.
  fs.mkdirSync(path.join(root, 'mine'));
  fs.writeFileSync(path.join(root, 'mine', 'notes.txt'), 'keep me');
  const err = t.throws(() => createTopicStore(root, 'mine', 'native', { numPartitions: 1 }), { instanceOf: StorageError });
  t.is(err?.code, 'TOPIC_EXISTS');
  t.is(fs.readFileSync(path.join(root, 'mine', 'notes.txt'), 'utf8'), 'keep me');
});

for (const format of ['native', 'reference'] as const) {
  test(`${format}: a createTopic killed at any moment leaves the topic whole or absent, never a name stuck`, async (t) => {
    const root = tempDir(t);
    for (let round = 0; round < 6; round++) {
      const name = `t${round}`;
      const child = spawn(process.execPath, [creator, root, name, '3000', format], { stdio: ['ignore', 'pipe', 'inherit'] });
      // Listened to from the start: the child may finish (and exit) before the kill.
      const exited = new Promise((r) => child.once('close', r));
      let out = '';
      child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
      await Promise.race([new Promise<void>((resolve) => child.stdout!.once('data', () => resolve())), exited]);
      await new Promise((r) => setTimeout(r, 5 + round * 15));
      child.kill('SIGKILL');
      await exited;
      if (topicStoreExists(root, name)) {
        const store = openTopicStore(root, name);
        t.is(store.numPartitions, 3000, `round ${round}: a topic that exists is whole`);
        store.close();
      } else {
        t.false(out.includes('CREATED'), `round ${round}`);
        createTopicStore(root, name, format, { numPartitions: 1 }).close();
        t.true(topicStoreExists(root, name), `round ${round}: the name is free again`);
      }
    }
  });
}

test('hidden folders a dead process left creating or deleting a topic are removed once untouched for a while; others are kept', async (t) => {
  const root = tempDir(t);
  const dead = spawn(process.execPath, ['-e', '']);
  await new Promise((r) => dead.once('exit', r));
  const deadPid = dead.pid!;
  const make = (name: string, ageMs: number): string => {
    const dir = path.join(root, name);
    fs.mkdirSync(path.join(dir, 'partitions', '00000000'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'partitions', '00000000', '00000000000000000000.data'), Buffer.alloc(4096, 1));
    const when = new Date(Date.now() - ageMs);
    fs.utimesSync(dir, when, when);
    return dir;
  };
  const abandoned = make(`.big.deleted-${deadPid}-0a1b2c3d`, 3_600_000);
  const abandonedCreate = make(`.new.creating-${deadPid}-0a1b2c3d`, 3_600_000);
  const recent = make(`.busy.deleted-${deadPid}-0a1b2c3d`, 1_000);
  const ours = make(`.mine.deleted-${process.pid}-0a1b2c3d`, 3_600_000);
  const notOurs = make('.somebody-else', 3_600_000);
  createTopicStore(root, 'other', 'native', { numPartitions: 1 }).close();
  t.false(fs.existsSync(abandoned));
  t.false(fs.existsSync(abandonedCreate));
  for (const kept of [recent, ours, notOurs]) t.true(fs.existsSync(kept), kept);
  t.deepEqual(listTopicStores(root).map((e) => e.name), ['other']);
});

test('a name taken by something that is not a topic: open, delete and create all say what is there and what to do', (t) => {
  const root = tempDir(t);
  fs.mkdirSync(path.join(root, 'd', 'partitions'), { recursive: true });
  fs.writeFileSync(path.join(root, 'd', 'notes.txt'), 'not ours');
  fs.writeFileSync(path.join(root, 'f'), 'a file');
  for (const [name, kind] of [['d', 'a folder without topic.json'], ['f', 'not a folder']] as const) {
    const why = `(${path.join(root, name)} is ${kind}, not a topic: remove or rename it to use this name)`;
    const opened = t.throws(() => openTopicStore(root, name), { instanceOf: StorageError });
    t.is(opened?.code, 'TOPIC_NOT_FOUND');
    t.true(opened!.message.endsWith(why), opened!.message);
    const removed = t.throws(() => removeTopicStore(root, name), { instanceOf: StorageError });
    t.is(removed?.code, 'TOPIC_NOT_FOUND');
    t.true(removed!.message.endsWith(why), removed!.message);
    const created = t.throws(() => createTopicStore(root, name, 'native', { numPartitions: 1 }), { instanceOf: StorageError });
    t.is(created?.code, 'TOPIC_EXISTS');
    t.true(created!.message.endsWith(why), created!.message);
  }
  t.is(fs.readFileSync(path.join(root, 'd', 'notes.txt'), 'utf8'), 'not ours', 'nothing of it was touched');
  // A name nothing has: the plain message.
  t.is(t.throws(() => openTopicStore(root, 'none'), { instanceOf: StorageError })?.message, `topic "none" does not exist in ${root}`);
});
