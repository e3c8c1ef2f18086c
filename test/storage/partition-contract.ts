// The contract every partition format keeps (storage/partition-core/): one suite, run for the native format
// (partition-contract-native.test.ts) and the reference format (reference/partition-contract-reference.test.ts).
// Where the two formats once behaved differently (readRange past the end, non-integer ids, topic removal, a
// non-object `components`), the test says which behaviour is the one.
import test, { type ExecutionContext } from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { listTopicStores } from '../../storage/open-topic.js';
import { StorageError, type AppendEvent, type FlushBehavior } from '../../storage/types.js';
import { exitOf } from './helpers.js';
import { tempDir } from '../temp-dir.js';
import type { PartitionFormat, PartitionUnderTest } from './partition-formats.js';

const APPENDER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures-bin', 'contract-appender.js');

function ev(i: number, data = `data-${i}`): AppendEvent {
  return { metadata: Buffer.from(JSON.stringify({ i })), data: Buffer.from(data) };
}

function events(from: number, n: number): AppendEvent[] {
  return Array.from({ length: n }, (_, k) => ev(from + k));
}

function metaOf(e: { metadata: Uint8Array }): unknown {
  return JSON.parse(Buffer.from(e.metadata).toString());
}

function codeOf(t: ExecutionContext, fn: () => unknown): string {
  return t.throws(fn, { instanceOf: StorageError })!.code;
}

export function partitionContract(f: PartitionFormat): void {
  const title = (what: string): string => `${f.name}: ${what}`;

  /** A fresh partition folder, its handles closed when the test ends. */
  function fresh(t: ExecutionContext): { dir: string; open: (opts?: Parameters<PartitionFormat['open']>[1]) => PartitionUnderTest } {
    const dir = path.join(tempDir(t), 'p0');
    fs.mkdirSync(dir);
    const open = (opts?: Parameters<PartitionFormat['open']>[1]): PartitionUnderTest => {
      const log = f.open(dir, opts);
      t.teardown(() => log.close());
      return log;
    };
    return { dir, open };
  }

  test(title('append, read and readRange: dense ids, every byte back, data in pieces'), (t) => {
    const log = fresh(t).open();
    t.deepEqual(log.append(events(0, 3)), { firstId: 0, count: 3 });
    t.deepEqual(log.append([{ metadata: Buffer.from('{"i":3}'), data: [Buffer.from('da'), Buffer.alloc(0), Buffer.from('ta-3')] }]), { firstId: 3, count: 1 });
    t.deepEqual(log.append([{ metadata: Buffer.from('{"i":4}') }]), { firstId: 4, count: 1 });
    t.deepEqual(log.append([]), { firstId: 5, count: 0 });
    t.is(log.endId, 5);
    t.is(log.startId, 0);
    const one = log.read(3);
    t.is(one.id, 3);
    t.deepEqual(metaOf(one), { i: 3 });
    t.is(Buffer.from(one.data()).toString(), 'data-3');
    t.is(log.read(4).dataSize, 0);
    const all = log.readRange(0, 100);
    t.deepEqual(all.map((e) => e.id), [0, 1, 2, 3, 4]);
    t.deepEqual(all.map(metaOf), [0, 1, 2, 3, 4].map((i) => ({ i })));
    t.deepEqual(all.slice(0, 4).map((e) => Buffer.from(e.data()).toString()), ['data-0', 'data-1', 'data-2', 'data-3']);
    t.deepEqual(log.readRange(1, 2).map((e) => e.id), [1, 2]);
  });

  test(title('readRange at and past the end: [] at the end, OUT_OF_RANGE past it (drift: the reference log returned [])'), (t) => {
    const log = fresh(t).open();
    t.deepEqual(log.readRange(0, 10), [], 'an empty partition');
    t.deepEqual(log.readRange(0, 0), []);
    t.is(codeOf(t, () => log.readRange(1, 10)), 'OUT_OF_RANGE');
    log.append(events(0, 4));
    t.deepEqual(log.readRange(4, 10), []);
    t.deepEqual(log.readRange(2, 0), []);
    t.is(log.readRange(2, Number.MAX_SAFE_INTEGER).length, 2, 'a huge max reads to the end');
    t.is(codeOf(t, () => log.readRange(5, 1)), 'OUT_OF_RANGE');
    t.is(codeOf(t, () => log.read(4)), 'OUT_OF_RANGE');
  });

  test(title('ids and max: a wrong type is a TypeError, a number that is no id is OUT_OF_RANGE (drift: the reference log threw TypeError)'), (t) => {
    const log = fresh(t).open();
    log.append(events(0, 2));
    for (const bad of ['1', null, undefined, 1n, {}]) {
      t.throws(() => log.read(bad as unknown as number), { instanceOf: TypeError });
      t.throws(() => log.readRange(bad as unknown as number, 1), { instanceOf: TypeError });
      t.throws(() => log.readRange(0, bad as unknown as number), { instanceOf: TypeError });
    }
    for (const bad of [1.5, -1, NaN, Infinity, -0.5, 2 ** 53]) {
      t.is(codeOf(t, () => log.read(bad)), 'OUT_OF_RANGE', `read(${bad})`);
      t.is(codeOf(t, () => log.readRange(bad, 1)), 'OUT_OF_RANGE', `readRange(${bad}, 1)`);
    }
    for (const bad of [1.5, -1, NaN]) t.is(codeOf(t, () => log.readRange(0, bad)), 'OUT_OF_RANGE', `readRange(0, ${bad})`);
  });

  test(title('a bad batch is refused before anything is written'), (t) => {
    const log = fresh(t).open();
    log.append(events(0, 1));
    t.throws(() => log.append('x' as unknown as AppendEvent[]), { instanceOf: TypeError });
    t.throws(() => log.append([ev(1), null as unknown as AppendEvent]), { instanceOf: TypeError });
    t.throws(() => log.append([ev(1), { metadata: 'x' as unknown as Uint8Array }]), { instanceOf: TypeError });
    t.throws(() => log.append([ev(1), { metadata: Buffer.from('{}'), data: ['x' as unknown as Uint8Array] }]), { instanceOf: TypeError });
    t.throws(() => log.append([ev(1), { metadata: Buffer.from('{}'), timestamp: -1 }]), { instanceOf: TypeError });
    t.is(log.refresh(), 1);
    t.deepEqual(log.append(events(1, 1)), { firstId: 1, count: 1 });
  });

  test(title('ids stay dense across close and reopen'), (t) => {
    const { open } = fresh(t);
    const a = open();
    a.append(events(0, 3));
    a.close();
    const b = open();
    t.is(b.endId, 3);
    t.deepEqual(b.append(events(3, 2)), { firstId: 3, count: 2 });
    b.close();
    const c = open();
    t.deepEqual(c.readRange(0, 10).map(metaOf), [0, 1, 2, 3, 4].map((i) => ({ i })));
    t.is(c.recovery, null, 'clean closes leave nothing to recover');
  });

  test(title('flush behaviours: each one stores and reads back; bad values are BAD_CONFIG, wrong types TypeError'), (t) => {
    for (const flushBehavior of ['buffered', 'on_flush', 'immediate'] as FlushBehavior[]) {
      const { open } = fresh(t);
      const log = open({ flushBehavior });
      log.append(events(0, 3));
      log.flush();
      log.append(events(3, 1));
      log.close();
      t.deepEqual(open().readRange(0, 10).map(metaOf), [0, 1, 2, 3].map((i) => ({ i })), flushBehavior);
    }
    const { dir } = fresh(t);
    t.is(codeOf(t, () => f.open(dir, { flushBehavior: 'sometimes' as FlushBehavior })), 'BAD_CONFIG');
    t.throws(() => f.open(dir, { flushBehavior: 1 as unknown as FlushBehavior }), { instanceOf: TypeError });
  });

  test(title('stats count the events and their bytes'), (t) => {
    const log = fresh(t).open();
    const empty = log.stats();
    t.like(empty, { firstId: 0, endId: 0, events: 0, dataBytes: 0, metadataBytes: 0 });
    log.append([{ metadata: Buffer.from('{"a":1}'), data: Buffer.alloc(10) }, { metadata: Buffer.from('{}'), data: Buffer.alloc(5) }]);
    const s = log.stats();
    t.like(s, { firstId: 0, endId: 2, events: 2, dataBytes: 15 });
    t.true(s.metadataBytes >= 9, 'at least the metadata bytes (a format may add framing)');
    t.true(s.segments >= 1);
  });

  test(title('waitForAppend: true once another handle appends, false on timeout and abort, TypeError for wrong types'), async (t) => {
    const { open } = fresh(t);
    const reader = open();
    const writer = open();
    t.false(await reader.waitForAppend(0, 0), 'nothing appended: times out at once');
    const woken = reader.waitForAppend(0, 600_000);
    writer.append(events(0, 1));
    t.true(await woken);
    t.true(await reader.waitForAppend(0, 0), 'already past knownEnd');
    const ac = new AbortController();
    const aborted = reader.waitForAppend(1, 600_000, ac.signal);
    ac.abort();
    t.false(await aborted);
    t.throws(() => reader.waitForAppend('0' as unknown as number, 1), { instanceOf: TypeError });
    t.throws(() => reader.waitForAppend(0, 'x' as unknown as number), { instanceOf: TypeError });
  });

  test(title('after close every call is CLOSED (close twice is fine)'), (t) => {
    const log = fresh(t).open();
    log.append(events(0, 1));
    log.close();
    log.close();
    t.is(codeOf(t, () => log.read(0)), 'CLOSED');
    t.is(codeOf(t, () => log.readRange(0, 1)), 'CLOSED');
    t.is(codeOf(t, () => log.append(events(1, 1))), 'CLOSED');
    t.is(codeOf(t, () => log.flush()), 'CLOSED');
    t.is(codeOf(t, () => log.refresh()), 'CLOSED');
    t.is(codeOf(t, () => log.stats()), 'CLOSED');
    t.is(codeOf(t, () => log.verify()), 'CLOSED');
    t.is(codeOf(t, () => log.findByTime(0)), 'CLOSED');
    t.is(codeOf(t, () => log.waitForAppend(0, 1)), 'CLOSED');
  });

  test(title('a torn tail: found and left by a read-only open, cut by the next append, both reported in one shape'), (t) => {
    const { dir, open } = fresh(t);
    const writer = open();
    writer.append(events(0, 3));
    writer.close();
    const files = f.tailFiles(dir);
    // What a writer killed mid-batch leaves: data bytes never committed and a partial index entry.
    fs.appendFileSync(files.data, Buffer.from('orphan'));
    fs.appendFileSync(files.index, Buffer.alloc(5, 0xab));
    const indexSize = fs.statSync(files.index).size;
    const log = open();
    t.is(log.endId, 3);
    t.deepEqual(log.readRange(0, 10).map((e) => e.id), [0, 1, 2]);
    const found = log.recovery!;
    t.like(found, { partition: 0, truncated: false, firstCutId: 3, droppedEntries: 1, droppedBytes: 6 });
    t.true(found.notes.length >= 2);
    t.deepEqual(found.cuts.map((c) => [c.file, c.offset, c.bytes]).sort(), [[files.data, fs.statSync(files.data).size - 6, 6], [files.index, indexSize - 5, 5]].sort());
    t.deepEqual(fs.statSync(files.index).size, indexSize, 'a read-only open cuts nothing');
    t.deepEqual(log.append(events(3, 1)), { firstId: 3, count: 1 });
    t.like(log.recovery, { partition: 0, truncated: true, firstCutId: 3, droppedEntries: 1, droppedBytes: 6 });
    t.deepEqual(log.recovery!.cuts.map((c) => c.file).sort(), [files.data, files.index].sort());
    t.deepEqual(log.readRange(0, 10).map(metaOf), [0, 1, 2, 3].map((i) => ({ i })));
    log.close();
    t.is(open().recovery, null);
  });

  test(title('writers in other processes take turns: dense ids, each writer in its own order, every event intact'), async (t) => {
    const { dir, open } = fresh(t);
    const log = open();
    const count = 60;
    const children = ['a', 'b'].map((tag) => spawn(process.execPath, [APPENDER, f.name, dir, tag, String(count)], { stdio: ['ignore', 'inherit', 'inherit'] }));
    t.teardown(() => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    });
    for (let seq = 0; seq < count; seq++) log.append([{ metadata: Buffer.from(JSON.stringify({ tag: 'main', seq })), data: Buffer.from(`main-${seq}`) }]);
    for (const c of children) t.is((await exitOf(c)).code, 0);
    t.is(log.refresh(), 3 * count);
    const seen = new Map<string, number[]>();
    log.readRange(0, 3 * count).forEach((e, k) => {
      t.is(e.id, k);
      const m = metaOf(e) as { tag: string; seq: number };
      t.is(Buffer.from(e.data()).toString(), `${m.tag}-${m.seq}`);
      seen.set(m.tag, [...(seen.get(m.tag) ?? []), m.seq]);
    });
    for (const tag of ['main', 'a', 'b']) t.deepEqual(seen.get(tag), Array.from({ length: count }, (_, i) => i), tag);
  });

  test(title('topic store: create, open, list, partitions, remove (drift: removal renames first; a non-object components is a TypeError)'), (t) => {
    const root = tempDir(t);
    const created = f.createTopic(root, 'orders', { numPartitions: 2 });
    t.is(created.numPartitions, 2);
    created.partition(1).append(events(0, 1));
    created.close();
    t.is(codeOf(t, () => f.createTopic(root, 'orders', { numPartitions: 1 })), 'TOPIC_EXISTS');
    t.is(codeOf(t, () => f.createTopic(root, 'zero', { numPartitions: 0 })), 'BAD_CONFIG');
    t.throws(() => f.createTopic(root, 'typed', { numPartitions: '2' }), { instanceOf: TypeError });
    t.throws(() => f.createTopic(root, 'comp', { numPartitions: 1, components: 'x' }), { instanceOf: TypeError });
    t.throws(() => f.createTopic(root, 'comp', { numPartitions: 1, components: [] }), { instanceOf: TypeError });
    t.false(f.topicExists(root, 'comp'), 'a refused create leaves nothing');
    t.deepEqual(listTopicStores(root), [{ name: 'orders', format: f.name }]);

    const store = f.openTopic(root, 'orders');
    t.is(store.numPartitions, 2);
    t.is(store.partition(1).endId, 1);
    t.is(store.partition(0), store.partition(0), 'one object per partition');
    t.is(codeOf(t, () => store.partition(2)), 'OUT_OF_RANGE');
    t.is(codeOf(t, () => store.partition(0.5)), 'OUT_OF_RANGE');
    t.throws(() => store.partition('0' as unknown as number), { instanceOf: TypeError });
    store.close();
    t.is(codeOf(t, () => store.partition(0)), 'CLOSED');

    // Removal renames the topic away before deleting it: a deletion that fails half-way leaves no topic behind.
    const rmSync = fs.rmSync;
    fs.rmSync = (() => {
      throw new Error('simulated crash during the delete');
    }) as typeof fs.rmSync;
    try {
      t.throws(() => f.removeTopic(root, 'orders'), { message: /simulated crash/ });
    } finally {
      fs.rmSync = rmSync;
    }
    t.false(f.topicExists(root, 'orders'));
    t.deepEqual(listTopicStores(root), []);
    t.is(codeOf(t, () => f.openTopic(root, 'orders')), 'TOPIC_NOT_FOUND');
    t.is(codeOf(t, () => f.removeTopic(root, 'orders')), 'TOPIC_NOT_FOUND');
    const leftover = fs.readdirSync(root);
    t.is(leftover.length, 1);
    t.true(leftover[0]!.startsWith('.orders.deleted-'), 'the renamed folder is hidden');

    f.createTopic(root, 'again', { numPartitions: 1 }).close();
    f.removeTopic(root, 'again');
    t.false(f.topicExists(root, 'again'));
    t.false(fs.readdirSync(root).some((n) => n.includes('again')), 'a completed removal leaves nothing');
  });
}
