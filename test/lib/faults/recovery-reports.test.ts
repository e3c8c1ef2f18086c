// Recovery reported through the API: a torn tail (a partial index entry past the end of the last segment) is cut
// when a writer opens the partition, and topic.recovery / topic.onRecovery say what was cut, in native and in
// reference-format topics; nothing committed is lost and the next id is dense. Memory topics never report.
import test from 'ava';
import fs from 'node:fs';
import { Driver, formatRecovery, type RecoveryReport } from '../../../lib/index.js';
import { ENTRY_SIZE } from '../../../storage/index-entry.js';
import { REFERENCE_ENTRY_BYTES } from '../../../storage/reference/reference-layout.js';
import { makeTopic, tearTail, tempRoot } from './torn-tail.js';

for (const format of ['native', 'reference'] as const) {
  test(`${format} topic: a torn tail is cut by the next writer and reported once, with partition, ids, bytes and why`, async (t) => {
    const root = tempRoot(t);
    await makeTopic(root, 'torn', 5, { partitions: 2, format });
    const indexFile = tearTail(root, 'torn', 1, 7);
    const sizeBefore = fs.statSync(indexFile).size;
    const d = await Driver.create('files', { root_path: root });
    try {
      const topic = await d.openTopic('torn');
      const heard: RecoveryReport[] = [];
      topic.onRecovery((r) => heard.push(r));
      const producer = topic.producer();
      const ids = [producer.push({ after: true }, undefined, 1), producer.push({ other: true }, undefined, 0)];
      await producer.flush();
      t.deepEqual(await Promise.all(ids.map((f) => f.wait())), [5, 5], 'the ids after recovery are dense');
      const cuts = heard.filter((r) => r.cut);
      t.is(cuts.length, 1, `one cut reported: ${JSON.stringify(heard)}`);
      const r = cuts[0]!;
      t.is(r.topic, 'torn');
      t.is(r.partition, 1);
      t.is(r.endId, 5, 'the tail began after the 5 committed events');
      t.is(r.droppedEntries, 1, 'one partial entry');
      t.true(r.notes.some((n) => n.includes(indexFile)), 'the note names the index file');
      t.true(heard.every((x) => x.partition === 1), 'the clean partition reports nothing');
      t.deepEqual(topic.recovery, heard, 'topic.recovery holds what the listener heard');
      const entryBytes = format === 'native' ? ENTRY_SIZE : REFERENCE_ENTRY_BYTES;
      t.is(fs.statSync(indexFile).size, sizeBefore - 7 + entryBytes, 'the 7 torn bytes are gone and the new entry follows the 5 committed ones');
      t.regex(formatRecovery(r), /topic torn partition 1: recovery cut 1 uncommitted entry \(ids 5\.\.5\)/);
      // A listener added later hears the reports already found.
      const late: RecoveryReport[] = [];
      const stop = topic.onRecovery((x) => late.push(x));
      t.deepEqual(late, heard);
      stop();
      // Everything committed is still there, in order.
      const c = await topic.consumer('check', { targets: [1], until: 'end' });
      const seen: number[] = [];
      await c.process((e) => void seen.push(e.id));
      t.deepEqual(seen, [0, 1, 2, 3, 4, 5]);
      await topic.close();
      // Reopened: the tail is gone, nothing more to report.
      const again = await d.openTopic('torn');
      await again.stats();
      t.deepEqual(again.recovery, []);
      await again.close();
    } finally {
      await d.close();
    }
  });
}

test('a listener that throws does not fail the append that found the report', async (t) => {
  const root = tempRoot(t);
  await makeTopic(root, 'torn', 3);
  tearTail(root, 'torn', 0, 5);
  const d = await Driver.create('files', { root_path: root });
  const warnings: string[] = [];
  const onWarning = (w: Error): void => void warnings.push(w.message);
  process.on('warning', onWarning);
  t.teardown(() => process.off('warning', onWarning));
  try {
    const topic = await d.openTopic('torn');
    topic.onRecovery(() => {
      throw new Error('listener bug');
    });
    const producer = topic.producer();
    const id = producer.push({ x: 1 });
    await producer.flush();
    t.is(await id.wait(), 3);
    await new Promise((r) => setImmediate(r));
    t.true(warnings.some((w) => w.includes('listener bug')));
  } finally {
    await d.close();
  }
});

test('onRecovery rejects a non-function; memory topics report nothing', async (t) => {
  const d = await Driver.create('memory', {});
  try {
    await d.createTopic('m', { options: { num_partitions: 1 } });
    const topic = await d.openTopic('m');
    t.throws(() => topic.onRecovery('nope' as unknown as () => void), { instanceOf: TypeError });
    let calls = 0;
    topic.onRecovery(() => calls++);
    const p = topic.producer();
    p.push({ a: 1 });
    await p.flush();
    t.deepEqual(topic.recovery, []);
    t.is(calls, 0);
  } finally {
    await d.close();
  }
});
