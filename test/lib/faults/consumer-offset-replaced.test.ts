// An offset file deleted, or replaced (a file renamed over it), by another process while its consumer runs: the
// consumer's later acknowledgements went to the unlinked file, and its position was lost (the next consumer of the
// name replayed from the start, or from the replacement's position). The position is put back at the path: within
// about a second (OFFSET_PATH_CHECK_MS) while acknowledgements go on, and at close.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { Driver, type Consumer, type TopicHandle } from '../../../lib/index.js';
import { OFFSET_PATH_CHECK_MS, readOffsetFile } from '../../../storage/consumer-offsets.js';
import { makeTopic, tempRoot } from './torn-tail.js';

async function ackNext(c: Consumer, n: number): Promise<number> {
  let last = -1;
  for (let i = 0; i < n; i++) {
    const e = (await c.pull().wait())!;
    await e.acknowledge();
    last = e.id;
  }
  return last;
}

async function remaining(topic: TopicHandle, name: string): Promise<number[]> {
  const c = await topic.consumer(name, { until: 'end' });
  const ids: number[] = [];
  await c.process((e) => void ids.push(e.id));
  await c.close();
  return ids;
}

const changes: Array<[string, (file: string) => void]> = [
  ['deleted', (f) => fs.rmSync(f)],
  ['replaced by an older copy renamed over it', (f) => {
    const copy = `${f}.copy`;
    fs.copyFileSync(`${f}.saved`, copy);
    fs.renameSync(copy, f);
  }],
];

for (const [what, change] of changes) {
  test(`offset file ${what} while its consumer runs: the position is put back at the path, never lost`, async (t) => {
    const root = tempRoot(t);
    await makeTopic(root, 'orders', 20);
    const d = await Driver.create('files', { root_path: root });
    try {
      const topic = await d.openTopic('orders');
      const file = path.join(root, 'orders', 'consumers', 'app', '00000000.offset');
      const c = await topic.consumer('app');
      t.is(await ackNext(c, 3), 2);
      fs.copyFileSync(file, `${file}.saved`); // position 2
      t.is(await ackNext(c, 2), 4);
      change(file);
      t.is(await ackNext(c, 3), 7);
      // While acknowledgements go on, the next store after the check interval puts the position back.
      await new Promise((r) => setTimeout(r, OFFSET_PATH_CHECK_MS + 100));
      t.is(await ackNext(c, 1), 8);
      t.is(readOffsetFile(file)?.lastAckedId, 8);
      // And what follows lands in that file too.
      change(file);
      t.is(await ackNext(c, 3), 11);
      await c.close(); // close puts it back at once
      t.is(readOffsetFile(file)?.lastAckedId, 11);
      t.deepEqual(await remaining(topic, 'app'), [12, 13, 14, 15, 16, 17, 18, 19]);
      await topic.close();
    } finally {
      await d.close();
    }
  });
}

test('a consumer whose claim was taken away puts nothing back at close: the new holder\'s file (here a reset) stays', async (t) => {
  const root = tempRoot(t);
  await makeTopic(root, 'orders', 20);
  const d = await Driver.create('files', { root_path: root });
  const other = await Driver.create('files', { root_path: root });
  try {
    const topic = await d.openTopic('orders');
    const file = path.join(root, 'orders', 'consumers', 'app', '00000000.offset');
    const c = await topic.consumer('app');
    t.is(await ackNext(c, 5), 4);
    // Its claim is taken away (as when its holder is declared dead) and another process resets the consumer, which
    // puts a new file at the path, before this consumer's periodic claim check noticed.
    fs.rmSync(path.join(root, 'orders', 'consumers', 'app', '00000000.claim.d'), { recursive: true });
    const otherTopic = await other.openTopic('orders');
    await otherTopic.resetConsumer('app', 2);
    t.is(readOffsetFile(file)?.lastAckedId, 1);
    await c.close().catch(() => undefined);
    t.is(readOffsetFile(file)?.lastAckedId, 1, 'the new position was not overwritten with the old holder\'s');
    t.deepEqual(await remaining(otherTopic, 'app'), [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    await otherTopic.close();
    await topic.close();
  } finally {
    await other.close();
    await d.close();
  }
});
