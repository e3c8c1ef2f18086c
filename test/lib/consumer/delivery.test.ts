// Delivery's waits for commits (lib/consumer/delivery.ts): a tailing consumer ends one per batch it receives.
// The first test patches AbortController globally: serial (ava runs serial tests first, alone).
import test from 'ava';
import { WAIT_OVER } from '../../../lib/wake-signal.js';
import { tailingPair } from './tailing.js';
import { DRIVER_TYPES, freshTopic } from '../both-drivers.js';

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
    const warnings: string[] = [];
    const onWarning = (w: Error): void => {
      warnings.push(`${w.name}: ${w.message}`);
    };
    process.on('warning', onWarning);
    t.teardown(() => process.off('warning', onWarning));
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
    await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
    t.deepEqual(warnings.filter((w) => w.includes('MaxListeners')), []);
  });
}
