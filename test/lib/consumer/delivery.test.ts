// Delivery's waits for commits (lib/consumer/delivery.ts): a tailing consumer ends one per batch it receives.
// The first test patches AbortController globally: serial (ava runs serial tests first, alone).
import test from 'ava';
import { WAIT_OVER } from '../../../lib/wake-signal.js';
import { tailingPair } from './tailing.js';
import { DRIVER_TYPES, freshTopic } from '../both-drivers.js';
import { collectWarnings, listenerLeakWarnings } from '../warnings.js';

test.serial('a wait for commits ends by aborting with a shared reason: no DOMException (with a stack trace) built per wait', async (t) => {
  const reasons: unknown[] = [];
  const abort = AbortController.prototype.abort;
  AbortController.prototype.abort = function (this: AbortController, reason?: unknown): void {
    reasons.push(reason);
    abort.call(this, reason);
  };
  t.teardown(() => {
    AbortController.prototype.abort = abort;
  });
  const { consumer, producer } = await tailingPair(t);
  for (let i = 0; i < 50; i++) {
    const next = consumer.pull(); // waits: nothing is there yet
    await producer.push(`{"i":${i}}`);
    t.is((await next)!.metadataText, `{"i":${i}}`);
  }
  const ofWaits = [...reasons];
  await producer.close();
  await consumer.close();
  t.true(ofWaits.length >= 50, `${ofWaits.length} aborts for 50 waits`);
  t.true(ofWaits.every((r) => r === WAIT_OVER));
});

for (const type of DRIVER_TYPES) {
  test(`${type}: a consumer waiting on many partitions causes no MaxListenersExceededWarning (one abort listener per partition)`, async (t) => {
    const warnings = collectWarnings(t);
    const { topic } = await freshTopic(t, type, { options: { num_partitions: 24 } });
    const consumer = await topic.consumer('c');
    const producer = topic.producer({ batchSize: 1 });
    for (let i = 0; i < 3; i++) {
      const next = consumer.pull(); // waits on all 24 partitions
      await producer.push(`{"i":${i}}`, undefined, 23);
      t.is((await next)!.metadataText, `{"i":${i}}`);
    }
    await producer.close();
    await consumer.close();
    t.deepEqual(await listenerLeakWarnings(warnings), []);
  });
}

// The quiet-partition shortcut of Delivery.step(): with many partitions of which few have events, a step goes straight
// to the busy one while the others are known to be quiet. Delivery must stay what a scan of every partition gives.
for (const type of DRIVER_TYPES) {
  test(`${type}: two busy partitions among 16 are delivered alternately, every event once, in id order`, async (t) => {
    const { topic } = await freshTopic(t, type, { options: { num_partitions: 16 } });
    const producer = topic.producer({ batchSize: 64 });
    for (let i = 0; i < 300; i++) {
      void producer.push(`{"p":3,"i":${i}}`, undefined, 3);
      void producer.push(`{"p":11,"i":${i}}`, undefined, 11);
    }
    await producer.close();
    const consumer = await topic.consumer('c', { until: 'end' });
    const got: string[] = [];
    await consumer.process((e) => void got.push(`${e.partition}:${e.id}`));
    await consumer.close();
    const expected: string[] = [];
    for (let i = 0; i < 300; i++) expected.push(`3:${i}`, `11:${i}`);
    t.deepEqual(got, expected);
  });

  test(`${type}: an event committed to a quiet partition during a long backlog on another is delivered within the refresh interval`, async (t) => {
    const { topic } = await freshTopic(t, type, { options: { num_partitions: 16 } });
    const backlog = 10_000;
    const bulk = topic.producer({ batchSize: 1024 });
    for (let i = 0; i < backlog; i++) void bulk.push(`{"i":${i}}`, undefined, 0);
    await bulk.close();
    const late = topic.producer({ batchSize: 1 });
    const consumer = await topic.consumer('c');
    let n = 0;
    let lateAt = -1;
    let pushed: PromiseLike<number> | undefined;
    await consumer.process(
      (e) => {
        n++;
        if (e.partition === 7) lateAt = n;
        // Committed while the consumer is busy with partition 0 (a batch of one is written inside push()), after
        // process() may have given the event loop a turn (every 1,024 events, if 20 ms passed) and before the next.
        if (n === 1100) pushed = late.push('{"late":true}', undefined, 7);
        // At least 5 us an event: the 948 events up to the next turn take more than 4.7 ms.
        const until = performance.now() + 0.005;
        while (performance.now() < until);
      },
      { maxEvents: backlog + 1 },
    );
    t.is(await pushed, 0);
    await late.close();
    await consumer.close();
    t.is(n, backlog + 1);
    // A caught-up partition is looked at again 2 ms after its last refresh while another keeps the consumer busy,
    // not only when process() gives the event loop a turn: before event 2,048.
    t.true(lateAt > 1100 && lateAt < 2048, `the late event came as event ${lateAt} of ${backlog + 1}`);
  });
}
