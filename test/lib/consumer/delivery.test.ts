// Delivery's waits for commits (lib/consumer/delivery.ts): a tailing consumer ends one per batch it receives.
import test from 'ava';
import { Driver } from '../../../lib/index.js';
import { WAIT_OVER } from '../../../lib/wake-signal.js';
import { tempDir } from '../../temp-dir.js';

test('a wait for commits ends by aborting with a shared reason: no DOMException (with a stack trace) built per wait', async (t) => {
  const reasons: unknown[] = [];
  const abort = AbortController.prototype.abort;
  AbortController.prototype.abort = function (this: AbortController, reason?: unknown): void {
    reasons.push(reason);
    abort.call(this, reason);
  };
  t.teardown(() => {
    AbortController.prototype.abort = abort;
  });
  const driver = await Driver.create('files', { root_path: tempDir(t) });
  t.teardown(() => driver.close());
  await driver.createTopic('t', { options: { num_partitions: 1 } });
  const topic = await driver.openTopic('t');
  const consumer = await topic.consumer('tail', { batchSize: 1 });
  const producer = topic.producer({ batchSize: 1 });
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
