// Consumer durations given by the user: close(graceMs) and process({ timeoutMs }). Infinity, or more than a timer
// holds (2^31 ms), means no bound; setTimeout would otherwise fire such a timer after 1 ms. And a standby consumer of
// many partitions.
import test from 'ava';
import { StopEventProcessor } from '../../../lib/index.js';
import { DRIVER_TYPES, freshTopic } from '../both-drivers.js';
import { collectWarnings, listenerLeakWarnings } from '../warnings.js';

test('close(graceMs) beyond a timer waits for the running processor, whose acknowledgement is then written', async (t) => {
  const { driver, topic } = await freshTopic(t, 'files');
  const producer = topic.producer();
  for (const graceMs of [Infinity, 2 ** 31, -1]) {
    const id = await producer.push({ graceMs: String(graceMs) });
    const name = `slow${id}`;
    const consumer = await topic.consumer(name, { until: 'end', from: id });
    let finished = false;
    let acknowledged: unknown;
    const started = new Promise<void>((r) => {
      void consumer.process(async (e) => {
        r();
        await new Promise((w) => setTimeout(w, 200));
        finished = true;
        acknowledged = await e.acknowledge().then(() => 'ok', (err: unknown) => err);
      });
    });
    await started;
    await consumer.close(graceMs);
    t.true(finished, `close(${graceMs}) returned while the processor ran`);
    t.is(acknowledged, 'ok', String(graceMs));
    const positions = (await driver.listConsumers('t')).find((c) => c.name === name);
    t.deepEqual(positions?.partitions, [{ partition: 0, lastAcknowledged: id }], String(graceMs));
  }
});

test('close(graceMs) refuses a graceMs that is not a number (TypeError), as Future.wait does', async (t) => {
  const { topic } = await freshTopic(t, 'memory');
  const consumer = await topic.consumer('c');
  t.throws(() => consumer.close('soon' as never), { instanceOf: TypeError });
  t.throws(() => consumer.close(NaN), { instanceOf: TypeError });
  t.is(consumer.status, 'open');
  await consumer.close(0);
  t.is(consumer.status, 'closed');
});

test('process({ timeoutMs: Infinity or beyond a timer }) waits for the next event instead of returning at once', async (t) => {
  const { topic } = await freshTopic(t, 'memory');
  const consumer = await topic.consumer('c');
  const producer = topic.producer();
  for (const timeoutMs of [Infinity, 2 ** 31]) {
    setTimeout(() => void producer.push({ timeoutMs: String(timeoutMs) }), 50);
    const n = await consumer.process(() => {
      throw new StopEventProcessor();
    }, { timeoutMs });
    t.is(n, 1, String(timeoutMs));
  }
});

for (const type of DRIVER_TYPES) {
  test(`${type}: a standby consumer of 24 partitions causes no MaxListenersExceededWarning, and takes over`, async (t) => {
    const warnings = collectWarnings(t);
    const { topic } = await freshTopic(t, type, { options: { num_partitions: 24 } });
    const active = await topic.consumer('w');
    const standby = await topic.consumer('w', { standby: true }); // waits for each of the 24 claims
    await new Promise((resolve) => setTimeout(resolve, 50));
    await active.close();
    const producer = topic.producer();
    t.is(await producer.push('{"x":1}', undefined, 5), 0);
    const e = await standby.pull();
    t.deepEqual([e?.partition, e?.id], [5, 0]);
    await producer.close();
    await standby.close();
    t.deepEqual(await listenerLeakWarnings(warnings), []);
  });
}
