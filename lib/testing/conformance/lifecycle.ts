// Conformance checks of lifecycles: every object's status moves opening -> open -> closing -> closed, using a
// closed object is CLOSED, and a consumer whose partition claim is taken away is told and stops reading it.
import { ErrorCode, type DiasporaError, type Event } from '../../index.js';
import { isCode, type SuiteContext } from './context.js';

export function defineLifecycleChecks(ctx: SuiteContext): void {
  const { test: t0, label, withDriver, topicWith } = ctx;

  t0(`${label}: driver, topic, producer and consumer report open, then closing, then closed`, async (t) => {
    await withDriver(async (d, env) => {
      const second = await env.reopen();
      const topic = await topicWith(second);
      const producer = topic.producer();
      const consumer = await topic.consumer('status');
      t.deepEqual([second.status, topic.status, producer.status, consumer.status], ['open', 'open', 'open', 'open']);
      await producer.push({ n: 1 });
      // A consumer closing while a processor runs is 'closing' until the processor finished.
      let finish!: () => void;
      const running = new Promise<void>((r) => (finish = r));
      let started!: () => void;
      const inProcessor = new Promise<void>((r) => (started = r));
      const processing = consumer.process(async () => {
        started();
        await running;
      });
      await inProcessor;
      const closing = consumer.close();
      t.is(consumer.status, 'closing');
      t.true(consumer.closed);
      finish();
      await closing;
      await processing;
      t.is(consumer.status, 'closed');
      t.true(isCode(ErrorCode.CLOSED)(await t.throwsAsync(consumer.pull().wait())));
      const producerClosing = producer.close();
      t.true(producer.status === 'closing' || producer.status === 'closed');
      await producerClosing;
      t.is(producer.status, 'closed');
      t.true(isCode(ErrorCode.CLOSED)(await t.throwsAsync(producer.push({}).wait())));
      const live = topic.producer();
      if (second !== d) {
        // Closing the driver closes its topic and what was opened from it, whatever their own state.
        const driverClosing = second.close();
        t.is(second.status, 'closing');
        t.true(isCode(ErrorCode.CLOSED)(await t.throwsAsync(second.listTopics())));
        await driverClosing;
        t.deepEqual([second.status, topic.status, live.status], ['closed', 'closed', 'closed']);
      } else {
        const topicClosing = topic.close();
        t.is(topic.status, 'closing');
        t.true(isCode(ErrorCode.CLOSED)(t.throws(() => topic.producer())));
        await topicClosing;
        t.deepEqual([topic.status, live.status], ['closed', 'closed']);
      }
      t.true(isCode(ErrorCode.CLOSED)(await t.throwsAsync(topic.consumer('late'))));
    });
  });

  t0(`${label}: a consumer whose partition claim is taken away is told (CONSUMER_BUSY) and stops reading that partition`, async (t) => {
    await withDriver(async (d) => {
      const topic = await topicWith(d, { options: { num_partitions: 2 } });
      const steal = topic.backend.stealClaim?.bind(topic.backend);
      t.truthy(steal, `the ${label} driver must implement TopicBackend.stealClaim (lib/backend.ts) for this check`);
      if (!steal) return;
      const p = topic.producer();
      for (let i = 0; i < 2; i++) {
        await p.push({ i }, undefined, 0);
        await p.push({ i }, undefined, 1);
      }
      const victim = await topic.consumer('victim');
      const before: Event[] = [(await victim.pull())!];
      await steal('victim', 0);
      // What was already read may still come; then the loss is reported, as soon as the driver notices it.
      let lostError: unknown;
      for (;;) {
        try {
          // Bounded: a driver that never reports the loss fails here instead of hanging.
          const e = await victim.pull().wait(15_000);
          if (!e) break;
          before.push(e);
        } catch (err) {
          lostError = err;
          break;
        }
      }
      t.true(isCode(ErrorCode.CONSUMER_BUSY)(lostError), String(lostError));
      t.is((lostError as DiasporaError).details.partition, 0);
      t.is(victim.status, 'open'); // the other partition is still read
      await p.push({ i: 2 }, undefined, 0);
      await p.push({ i: 2 }, undefined, 1);
      const after: Event[] = [];
      while (!after.some((e) => e.partition === 1 && e.id === 2)) {
        const e = await victim.pull().wait(10_000);
        if (!e) break;
        after.push(e);
      }
      t.true(after.some((e) => e.partition === 1 && e.id === 2), 'partition 1 goes on');
      t.true(after.every((e) => e.partition === 1), 'nothing of partition 0 after the loss');
      t.is(await victim.pull().wait(300), undefined, 'nothing of partition 0 after the loss');
      // The partition is free: another consumer of the name takes it and reads it from its last acknowledgement
      // (none here: from the start).
      const heir = await topic.consumer('victim', { targets: [0] });
      const first = (await heir.pull())!;
      t.deepEqual([first.partition, first.id], [0, 0]);
      await victim.close(); // giving back a lost claim leaves the heir's alone
      await heir.close();
      // Both partitions are free again once both closed.
      const again = await topic.consumer('victim');
      t.is(again.status, 'open');
      await again.close();
    });
  });
}
