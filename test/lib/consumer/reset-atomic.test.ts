// topic.resetConsumer moves every partition asked for or none: a partition that cannot be moved (a live consumer holds
// it, its offset file cannot be written) used to leave the partitions before it moved and the ones after it not.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { DiasporaError, ErrorCode, type TopicHandle } from '../../../lib/index.js';
import { DRIVER_TYPES, freshTopic } from '../both-drivers.js';

async function positions(topic: TopicHandle, name: string): Promise<Array<number | null>> {
  const c = (await topic.listConsumers()).find((x) => x.name === name);
  return (c?.partitions ?? []).map((p) => p.lastAcknowledged);
}

async function consumeAll(topic: TopicHandle, name: string): Promise<void> {
  const c = await topic.consumer(name, { until: 'end' });
  await c.process((e) => void e.acknowledge());
  await c.close();
}

async function topicWithPositions(t: Parameters<typeof freshTopic>[0], type: (typeof DRIVER_TYPES)[number]) {
  const made = await freshTopic(t, type, { options: { num_partitions: 3 } });
  const producer = made.topic.producer();
  for (let p = 0; p < 3; p++) for (let i = 0; i < 5; i++) producer.push({ p, i }, undefined, p);
  await producer.flush();
  await consumeAll(made.topic, 'app');
  return made;
}

for (const type of DRIVER_TYPES) {
  test(`${type}: a reset refused on one partition (a live consumer holds it) moves none of them`, async (t) => {
    const { topic } = await topicWithPositions(t, type);
    t.deepEqual(await positions(topic, 'app'), [4, 4, 4]);
    const live = await topic.consumer('app', { targets: [2] });
    const err = await t.throwsAsync(topic.resetConsumer('app', 'earliest'), { instanceOf: DiasporaError });
    t.is((err as DiasporaError).code, ErrorCode.CONSUMER_BUSY);
    t.deepEqual(await positions(topic, 'app'), [4, 4, 4], 'partitions 0 and 1 were not moved');
    await live.close();
    await topic.resetConsumer('app', 1);
    t.deepEqual(await positions(topic, 'app'), [0, 0, 0]);
  });
}

test('files: a reset whose write fails on one partition moves none of them, and leaves no temporary file', async (t) => {
  const { topic } = await topicWithPositions(t, 'files');
  const dir = path.join(topicDirOf(topic), 'consumers', 'app');
  // Partition 1's offset file becomes a folder: it can be neither read nor replaced.
  fs.rmSync(path.join(dir, '00000001.offset'));
  fs.mkdirSync(path.join(dir, '00000001.offset'));
  const before = fs.readFileSync(path.join(dir, '00000000.offset'));
  await t.throwsAsync(topic.resetConsumer('app', 'earliest'), { instanceOf: DiasporaError });
  t.deepEqual(fs.readFileSync(path.join(dir, '00000000.offset')), before, 'partition 0 was not moved');
  t.deepEqual(fs.readdirSync(dir).filter((f) => f.includes('.tmp') || f.includes('.old')), []);
});

/** The files driver's folder of a topic (its backend's store). */
function topicDirOf(topic: TopicHandle): string {
  return (topic as unknown as { backend: { store: { dir: string } } }).backend.store.dir;
}
