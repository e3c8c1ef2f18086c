// pull() that resolves to null (the end of `until: 'end'`) or that waits for an event writes the acknowledgements made
// so far at once, as the loops (for-await, process) do when they stop or wait: a program that exits right after
// its last pull() returned null keeps them.
import test from 'ava';
import type { TopicHandle } from '../../../lib/index.js';
import { DRIVER_TYPES, freshTopic } from '../both-drivers.js';

async function position(topic: TopicHandle, name: string): Promise<number | null | undefined> {
  return (await topic.listConsumers()).find((c) => c.name === name)?.partitions.find((p) => p.partition === 0)?.lastAcknowledged;
}

for (const type of DRIVER_TYPES) {
  test(`${type}: pull() resolving null writes the acknowledgements pending (no turn of the event loop needed)`, async (t) => {
    const { topic } = await freshTopic(t, type);
    const producer = topic.producer();
    for (let i = 0; i < 3; i++) producer.push({ i });
    await producer.flush();
    const c = await topic.consumer('puller', { until: 'end' });
    for (;;) {
      const e = await c.pull().wait();
      if (e === null || e === undefined) break;
      e.acknowledge();
    }
    // No macrotask ran since the last acknowledgement: only the pull that returned null can have written it.
    t.is(await position(topic, 'puller'), 2);
    await c.close();
  });

  test(`${type}: a pull() that waits (then times out) writes the acknowledgements pending when it starts waiting`, async (t) => {
    const { topic } = await freshTopic(t, type);
    const producer = topic.producer();
    producer.push({ i: 0 });
    await producer.flush();
    const c = await topic.consumer('waiter');
    const e = await c.pull().wait();
    e!.acknowledge();
    const f = c.pull(); // nothing more: it waits
    t.is(await position(topic, 'waiter'), 0);
    t.is(await f.wait(20), undefined);
    await c.close();
  });
}
