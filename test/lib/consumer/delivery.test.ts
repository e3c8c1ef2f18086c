// Delivery's waits for commits (lib/consumer/delivery.ts): a tailing consumer ends one per batch it receives.
import test from 'ava';
import { WAIT_OVER } from '../../../lib/wake-signal.js';
import { tailingPair } from './tailing.js';

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
