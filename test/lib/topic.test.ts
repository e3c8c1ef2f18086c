// topic.resetConsumer: a position it cannot store (an id past a partition's end) is refused before anything moves; an
// id below a partition's first stored id (retention removed what lay below) moves it to that first id.
import test, { type ExecutionContext } from 'ava';
import { DiasporaError, Driver, ErrorCode, type TopicHandle } from '../../lib/index.js';
import { tempDir } from '../temp-dir.js';
import { DRIVER_TYPES, freshTopic, type DriverType } from './both-drivers.js';

for (const type of DRIVER_TYPES) {
  test(`${type}: resetConsumer to an id past the end of a partition is OUT_OF_RANGE and moves no partition`, async (t) => {
    const { topic } = await freshTopic(t, type, { options: { num_partitions: 2 } });
    const p = topic.producer();
    for (const partition of [0, 0, 0, 1]) p.push({ partition }, undefined, partition);
    await p.flush();
    for (const to of [2, 2 ** 60]) {
      const err = await t.throwsAsync(topic.resetConsumer('r', to));
      t.true(err instanceof DiasporaError && err.code === ErrorCode.OUT_OF_RANGE, `${to}: ${String(err)}`);
      if (to === 2) t.like((err as DiasporaError).details, { partition: 1, id: 2, endId: 1 });
    }
    t.deepEqual(await topic.listConsumers(), [], 'partition 0 (which has id 2) was not moved either');
    await t.throwsAsync(topic.resetConsumer('r', 1.5), { instanceOf: TypeError });
    // The end itself is a position (the next event pushed), and a partition that has the id can be moved alone.
    await topic.resetConsumer('r', 1);
    await topic.resetConsumer('r', 2, [0]);
    const positions = (await topic.listConsumers())[0]!.partitions;
    t.deepEqual(positions, [{ partition: 0, lastAcknowledged: 1 }, { partition: 1, lastAcknowledged: 0 }]);
  });
}

/**
 * A topic of 20 events whose first stored id is above 0 where the driver can remove events: files trims its first 4
 * segments (ids 0..15 go). The memory driver keeps everything (first id 0), so there only id 0 lies at the first id.
 */
async function topicWithTrimmedStart(t: ExecutionContext, type: DriverType): Promise<{ topic: TopicHandle; firstId: number }> {
  const driver = await Driver.create(type, type === 'files' ? { root_path: tempDir(t, 'diaspora-reset-'), segment_bytes: 4096 } : {});
  t.teardown(() => driver.close());
  await driver.createTopic('t', { options: { num_partitions: 1 } });
  const topic = await driver.openTopic('t');
  const p = topic.producer();
  for (let i = 0; i < 20; i++) p.push({ i }, Buffer.alloc(1000, i)); // 4 events of 1000 bytes per 4096-byte segment
  await p.flush();
  if (type === 'memory') return { topic, firstId: 0 };
  await topic.setRetention({ retention_bytes: 1 });
  const firstId = (await topic.trim())[0]!.firstId;
  t.is(firstId, 16);
  return { topic, firstId };
}

for (const type of DRIVER_TYPES) {
  test(`${type}: resetConsumer to any id at or below the first stored id moves the consumer there, as 'earliest' does`, async (t) => {
    const { topic, firstId } = await topicWithTrimmedStart(t, type);
    await topic.resetConsumer('early', 'earliest');
    const earliest = (await topic.listConsumers()).find((c) => c.name === 'early')!.partitions;
    for (const to of new Set([0, Math.min(3, firstId), Math.max(0, firstId - 1), firstId])) {
      await topic.resetConsumer('r', to);
      const positions = (await topic.listConsumers()).find((c) => c.name === 'r')!.partitions;
      t.deepEqual(positions, earliest, `reset to ${to} stores what 'earliest' stores`);
      // Before: 3 and 15 were stored as given and the consumer then refused to open (OUT_OF_RANGE: events trimmed).
      const c = await topic.consumer('r');
      t.is((await c.pull())?.id, firstId, `reset to ${to}: the consumer reads the first stored id`);
      await c.close();
    }
  });
}
