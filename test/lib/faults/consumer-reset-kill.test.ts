// topic.resetConsumer over several partitions, its process SIGKILLed between the renames that switch the partitions
// to their new positions: the next consumer of that name reads every partition from the new position (before, the
// partitions renamed before the kill from the new one and the others from the old one), and the files the reset
// left in the consumer's folder are gone once it has claimed them.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { Driver } from '../../../lib/index.js';
import { RESET_KILL_ENV } from '../../../storage/consumer-reset.js';
import { startChild } from '../child.js';
import { drain, makeTopic, tempRoot } from './torn-tail.js';

test('a reset killed after switching its first partition: the next consumer reads every partition from the new position, leftovers removed', async (t) => {
  const root = tempRoot(t);
  await makeTopic(root, 'orders', 10, { partitions: 3 });
  const d = await Driver.create('files', { root_path: root });
  t.teardown(() => d.close());
  const topic = await d.openTopic('orders');
  t.is((await drain(topic, 'app')).length, 30, 'app acknowledged everything');

  const child = startChild('consumer-resetter.js', [root, 'orders', 'app', '6'], { [RESET_KILL_ENV]: 'renamed-1' });
  t.teardown(() => void child.proc.kill('SIGKILL'));
  t.like(await child.exited, { signal: 'SIGKILL' });
  const folder = path.join(root, 'orders', 'consumers', 'app');
  const stray = (): string[] => fs.readdirSync(folder).filter((f) => !/^(name|[0-9]{8}\.(offset|claim\.d))$/.test(f)).sort();
  t.true(stray().length > 0, `the kill left files: ${stray().join(', ')}`);

  // Every partition from id 6 on: 4 events each, none skipped on the partitions not switched before the kill.
  const c = await topic.consumer('app', { until: 'end' });
  const got: string[] = [];
  await c.process((e) => {
    got.push(`${e.partition}:${e.id}`);
    e.acknowledge();
  });
  await c.close();
  t.deepEqual(got.sort(), ['0:6', '0:7', '0:8', '0:9', '1:6', '1:7', '1:8', '1:9', '2:6', '2:7', '2:8', '2:9']);
  t.deepEqual(stray(), [], 'nothing of the interrupted reset is left');
  t.deepEqual((await topic.listConsumers())[0]!.partitions.map((p) => p.lastAcknowledged), [9, 9, 9]);
});
