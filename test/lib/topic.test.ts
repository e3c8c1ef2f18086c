// topic.resetConsumer: a position it cannot store (an id past a partition's end) is refused before anything moves.
import test from 'ava';
import { DiasporaError, ErrorCode } from '../../lib/index.js';
import { DRIVER_TYPES, freshTopic } from './both-drivers.js';

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
