// One forwarding policy (scripts/cli/forward-daemon.ts ForwardWorker) on memory topics, seen from the destination's
// engine: a backlog is forwarded in batches (pushes nobody waits for form one batch per turn), every event is
// acknowledged once committed, a push that fails stops the policy with nothing from it on acknowledged, and waiting
// for a slow destination does not spin.
import test from 'ava';
import { Driver } from '../../../lib/index.js';
import type { BackendAppendEvent } from '../../../lib/backend.js';
import { ForwardWorker } from '../../../scripts/cli/forward-daemon.js';
import { Logger } from '../../../scripts/cli/logger.js';

async function setup(t: import('ava').ExecutionContext, events: number) {
  const driver = await Driver.create('memory', {});
  t.teardown(() => driver.close());
  await driver.createTopic('src');
  await driver.createTopic('dst');
  const src = await driver.openTopic('src');
  const dst = await driver.openTopic('dst');
  const producer = src.producer();
  for (let i = 0; i < events; i++) void producer.push({ i }, Buffer.from(`data ${i}`));
  await producer.close();
  // The destination's engine, recording the size of each append (and failing one on demand).
  const part = dst.backend.partition(0);
  const append = part.append.bind(part);
  const appends: number[] = [];
  let failNext = false;
  part.append = (batch: readonly BackendAppendEvent[]) => {
    appends.push(batch.length);
    if (failNext) {
      failNext = false;
      throw new Error('disk full (test)');
    }
    return append(batch);
  };
  const worker = new ForwardWorker('w', await src.consumer('fw'), dst.producer({ name: 'fw' }), new Logger('error'));
  return { src, dst, worker, appends, failOnce: () => (failNext = true) };
}

async function lastAcknowledged(driver: Driver): Promise<number | null | undefined> {
  return (await driver.listConsumers('src')).find((c) => c.name === 'fw')?.partitions[0]?.lastAcknowledged;
}

test.serial('waiting for a slow destination to commit does not spin', async (t) => {
  const { dst, worker } = await setup(t, 1);
  // The destination's engine answers after 400 ms (an asynchronous engine, as the nats driver is).
  const part = dst.backend.partition(0);
  const append = part.append.bind(part);
  let started = false;
  part.append = (batch: readonly BackendAppendEvent[]) => {
    started = true;
    return new Promise((resolve) => setTimeout(() => resolve(append(batch) as number), 400));
  };
  const running = worker.run();
  const deadline = Date.now() + 10_000;
  while (!started && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  // The push is in flight: measure this process' CPU while the worker waits for it.
  const before = process.cpuUsage();
  await new Promise((r) => setTimeout(r, 250));
  const used = process.cpuUsage(before);
  const cpuMs = (used.user + used.system) / 1000;
  t.is(worker.forwarded, 0, 'still in flight');
  t.true(cpuMs < 100, `${cpuMs.toFixed(0)} ms of CPU in 250 ms of waiting`);
  while (worker.forwarded < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  await worker.stop();
  await running;
  t.is(worker.forwarded, 1);
});

test('a backlog is forwarded in batches, in order, every event acknowledged once committed', async (t) => {
  const { dst, worker, appends } = await setup(t, 3000);
  const running = worker.run();
  const deadline = Date.now() + 20_000;
  while (worker.forwarded < 3000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  await worker.stop();
  await running;
  t.is(worker.forwarded, 3000);
  t.is(appends.reduce((a, b) => a + b, 0), 3000);
  t.true(appends.length <= 30, `${appends.length} appends for 3,000 events: one per event would be 3,000`);
  const copied = await dst.consumer('check', { until: 'end' });
  const seen: Array<[unknown, string]> = [];
  for await (const e of copied) seen.push([e.metadata, e.data.toBuffer().toString()]);
  t.deepEqual(seen, Array.from({ length: 3000 }, (_, i) => [{ i }, `data ${i}`]));
  t.is(await lastAcknowledged(dst.driver as Driver), 2999);
});

test('a failed write stops the policy with an error; nothing from the failed event on is acknowledged', async (t) => {
  const { dst, worker, appends, failOnce } = await setup(t, 0);
  const src = await (dst.driver as Driver).openTopic('src');
  const producer = src.producer();
  const running = worker.run();
  const until = async (n: number): Promise<void> => {
    const deadline = Date.now() + 10_000;
    while (appends.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  };
  await producer.push({ i: 0 });
  await until(1);
  failOnce();
  await producer.push({ i: 1 });
  await until(2);
  const err = await t.throwsAsync(running);
  t.regex(err!.message, /event 0\/1 not forwarded: .*disk full.*stopped/);
  await producer.push({ i: 2 }); // after the failure: not forwarded by this run
  await worker.stop();
  t.is(worker.forwarded, 1);
  const copied = await dst.consumer('check', { until: 'end' });
  const seen: unknown[] = [];
  for await (const e of copied) seen.push(e.metadata);
  t.deepEqual(seen, [{ i: 0 }]);
  t.is(await lastAcknowledged(dst.driver as Driver), 0, 'a restart forwards again from event 1');
});
