// A consumer whose claims were taken over (its holder declared dead): it stops writing positions, reports every
// loss once, and a late acknowledgement of an event it delivered before the loss never moves the new owner back.
import test from 'ava';
import { tempDir } from '../temp-dir.js';
import { Driver, DiasporaError, ErrorCode, type Event } from '../../lib/index.js';

const isCode = (code: ErrorCode) => (e: unknown): boolean => e instanceof DiasporaError && e.code === code;

test("a consumer that lost its claim cannot acknowledge: the heir's position stays, a restart does not redeliver", async (t) => {
  const d = await Driver.create('files', { root_path: tempDir(t, 'diaspora-lost-') });
  t.teardown(() => d.close());
  await d.createTopic('t', { options: { num_partitions: 1 } });
  const topic = await d.openTopic('t');
  const p = topic.producer();
  for (let i = 0; i < 4; i++) await p.push({ i });
  await p.flush();
  const victim = await topic.consumer('c');
  const delivered: Event[] = [];
  for (let i = 0; i < 4; i++) delivered.push((await victim.pull())!);
  await delivered[0]!.acknowledge();
  await topic.backend.stealClaim!('c', 0);
  const heir = await topic.consumer('c');
  const h: Event[] = [];
  for (let i = 0; i < 3; i++) h.push((await heir.pull())!);
  t.deepEqual(h.map((e) => e.id), [1, 2, 3]);
  await h[2]!.acknowledge();
  await heir.close();
  // The victim notices the loss (its next pull reports it), then acknowledges an event it delivered before.
  const loss = await t.throwsAsync(victim.pull());
  t.true(isCode(ErrorCode.CONSUMER_BUSY)(loss));
  const err = await t.throwsAsync(delivered[1]!.acknowledge());
  t.true(isCode(ErrorCode.CONSUMER_BUSY)(err));
  t.deepEqual((err as DiasporaError).details, { partition: 0, lost: true });
  // Neither that nor the victim's close() moves the stored position back.
  await victim.close();
  const listed = await d.listConsumers('t');
  t.deepEqual(listed.find((c) => c.name === 'c')?.partitions, [{ partition: 0, lastAcknowledged: 3 }]);
  const again = await topic.consumer('c', { until: 'end' });
  t.is(await again.pull(), null);
  await again.close();
});

test('several lost claims are each reported once, in order, then delivery goes on', async (t) => {
  const d = await Driver.create('memory');
  t.teardown(() => d.close());
  await d.createTopic('t', { options: { num_partitions: 2 } });
  const topic = await d.openTopic('t');
  const c = await topic.consumer('c');
  await topic.backend.stealClaim!('c', 0);
  await topic.backend.stealClaim!('c', 1);
  const lost: unknown[] = [];
  for (let k = 0; k < 2; k++) {
    const err = await t.throwsAsync(c.pull());
    t.true(isCode(ErrorCode.CONSUMER_BUSY)(err));
    lost.push((err as DiasporaError).details.partition);
  }
  t.deepEqual(lost.sort(), [0, 1]);
  // Nothing else to report: the next pull waits (nothing is delivered from partitions it no longer holds).
  t.is(await c.pull().wait(50), undefined);
  await c.close();
});

test("deleteConsumer(''): BAD_NAME like consumer(''); a wrong type is a TypeError", async (t) => {
  const d = await Driver.create('files', { root_path: tempDir(t, 'diaspora-lost-') });
  t.teardown(() => d.close());
  await d.createTopic('t');
  const topic = await d.openTopic('t');
  t.true(isCode(ErrorCode.BAD_NAME)(await t.throwsAsync(topic.deleteConsumer(''))));
  t.true(isCode(ErrorCode.BAD_NAME)(await t.throwsAsync(topic.consumer(''))));
  await t.throwsAsync(topic.deleteConsumer(5 as never), { instanceOf: TypeError });
});
