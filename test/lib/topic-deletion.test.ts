// A topic deleted (and created again under its name) while handles of it are open, in this process and in another:
// the old handles' pushes are refused with TOPIC_NOT_FOUND instead of landing in the new topic (which they
// corrupted: duplicate ids, events overwritten), and their reads say TOPIC_NOT_FOUND instead of CORRUPTION.
import test from 'ava';
import fs from 'node:fs';
import { Driver, ErrorCode, type TopicHandle } from '../../lib/index.js';
import { startChild } from './child.js';
import { tempDir } from '../temp-dir.js';

async function allEvents(topic: TopicHandle): Promise<Array<{ id: number; metadata: unknown; bytes: number }>> {
  const consumer = await topic.consumer(`check-${Math.random()}`, { until: 'end', durable: false });
  const out: Array<{ id: number; metadata: unknown; bytes: number }> = [];
  for await (const e of consumer) out.push({ id: e.id, metadata: e.metadata, bytes: e.data.size });
  await consumer.close();
  return out;
}

async function expectNewTopicIntact(t: import('ava').ExecutionContext, root: string, name: string, count: number): Promise<void> {
  const dir = `${root}/${name}/partitions/00000000`;
  t.log(fs.readdirSync(dir).map((f) => `${f}:${fs.statSync(`${dir}/${f}`).size}`).join(' '));
  const d = await Driver.create('files', { root_path: root });
  const topic = await d.openTopic(name);
  const events = await allEvents(topic);
  t.deepEqual(events.map((e) => e.id), [...Array(count).keys()]);
  t.deepEqual(events.map((e) => e.metadata), [...Array(count).keys()].map((n) => ({ from: 'new', n })));
  t.deepEqual(await topic.verify(), []);
  await d.close();
}

test('in one process: pushes of a deleted topic are refused, also after it is created again, and the new topic stays intact', async (t) => {
  const root = tempDir(t);
  const d = await Driver.create('files', { root_path: root, segment_bytes: 4096 });
  await d.createTopic('z');
  const old = (await d.openTopic('z')).producer();
  t.is(await old.push({ from: 'old', n: 0 }), 0);
  await d.deleteTopic('z');
  // At once (the lease taken by the first push is still held), not only after the lease expired.
  const refused = await t.throwsAsync(old.push({ from: 'old', n: 1 }).wait());
  t.is((refused as { code?: string }).code, ErrorCode.TOPIC_NOT_FOUND);
  t.false(await d.topicExists('z'), 'the refused push did not bring back the deleted topic');

  await d.createTopic('z');
  const fresh = (await d.openTopic('z')).producer();
  for (let n = 0; n < 3; n++) t.is(await fresh.push({ from: 'new', n }, Buffer.alloc(100)), n);
  // Enough old pushes to roll segments, had they been written.
  for (let n = 2; n < 60; n++) {
    const err = await t.throwsAsync(old.push({ from: 'old', n }, Buffer.alloc(100)).wait());
    t.is((err as { code?: string }).code, ErrorCode.TOPIC_NOT_FOUND);
  }
  for (let n = 3; n < 6; n++) t.is(await fresh.push({ from: 'new', n }), n);
  // Its close reports the failed writes since its last flush (docs/api.md), as a flush would.
  const reported = await t.throwsAsync(old.close());
  t.is((reported as { code?: string }).code, ErrorCode.TOPIC_NOT_FOUND);
  await d.close();
  await expectNewTopicIntact(t, root, 'z', 6);
});

test('in one process: a consumer of a deleted topic gets TOPIC_NOT_FOUND, also while it waits for new events', async (t) => {
  const root = tempDir(t);
  const d = await Driver.create('files', { root_path: root });
  await d.createTopic('dc');
  const topic = await d.openTopic('dc');
  await topic.producer().push({ a: 1 });
  const reader = await topic.consumer('x');
  const waiter = await topic.consumer('w');
  const first = await waiter.pull().wait();
  t.is(first?.id, 0);
  const waiting = waiter.pull().wait(); // at the end: waits for an event that will never come
  await d.deleteTopic('dc');
  // An event already mapped by this handle may still be delivered (its bytes stay valid); past it, the reader learns
  // that the topic is gone instead of waiting forever or reading CORRUPTION.
  let got: unknown;
  for (let k = 0; k < 2 && got === undefined; k++) {
    try {
      const e = await reader.pull().wait();
      t.is(e?.id, 0);
    } catch (err) {
      got = err;
    }
  }
  t.is((got as { code?: string } | undefined)?.code, ErrorCode.TOPIC_NOT_FOUND);
  const waitErr = await t.throwsAsync(waiting);
  t.is((waitErr as { code?: string }).code, ErrorCode.TOPIC_NOT_FOUND);
  await d.close();
});

for (const [mode, pauseMs] of [['a push every 20 ms', 20], ['pushes back to back', 0]] as const) {
  test(`another process (${mode}) keeps a producer of a topic deleted and created again: refused, the new topic intact`, async (t) => {
    const root = tempDir(t);
    const d = await Driver.create('files', { root_path: root });
    await d.createTopic('z');
    const child = startChild('pushing-until-refused.js', [root, 'z', String(pauseMs), '8192']);
    // If the test fails, the child might never be refused: it must not push forever after the test.
    t.teardown(() => void child.proc.kill('SIGKILL'));
    await child.waitFor(/^OK 5\d*$/);
    await d.deleteTopic('z');
    await d.createTopic('z');
    const fresh = (await d.openTopic('z')).producer();
    for (let n = 0; n < 50; n++) await fresh.push({ from: 'new', n });
    t.regex(await child.waitFor(/^REFUSED/), /^REFUSED TOPIC_NOT_FOUND$/, child.stderr());
    await child.exited;
    await d.close();
    await expectNewTopicIntact(t, root, 'z', 50);
  });
}

test('every old handle of a topic created again is refused, not only used partitions: producer, consumer, acknowledgements, retention, consumer deletion', async (t) => {
  const root = tempDir(t);
  const d = await Driver.create('files', { root_path: root });
  t.teardown(() => d.close().catch(() => undefined));
  await d.createTopic('z', { options: { num_partitions: 2 } });
  const old = await d.openTopic('z');
  const oldProducer = old.producer();
  await oldProducer.push({ from: 'old' }, undefined, 0); // partition 1 never used before the delete
  const oldConsumer = await old.consumer('app');
  const oldEvent = await oldConsumer.pull().wait();
  // Another driver (as another process would) deletes the topic and creates it again.
  const other = await Driver.create('files', { root_path: root });
  await other.deleteTopic('z');
  await other.createTopic('z', { options: { num_partitions: 2 } });
  const fresh = await other.openTopic('z');
  const producer = fresh.producer();
  for (let n = 0; n < 5; n++) await producer.push({ from: 'new', n }, undefined, n % 2);
  const app = await fresh.consumer('app');
  (await app.pull().wait())!.acknowledge();
  await app.close();

  const code = async (f: () => Promise<unknown>): Promise<string | undefined> => {
    try {
      await f();
      return 'resolved';
    } catch (err) {
      return (err as { code?: string }).code;
    }
  };
  t.is(await code(() => oldProducer.push({ from: 'old' }, undefined, 1).wait()), ErrorCode.TOPIC_NOT_FOUND);
  t.is(await code(() => oldEvent!.acknowledge().wait()), ErrorCode.TOPIC_NOT_FOUND);
  t.is(await code(() => old.setRetention({ retention_bytes: 4096 })), ErrorCode.TOPIC_NOT_FOUND);
  t.is(await code(() => old.deleteConsumer('app')), ErrorCode.TOPIC_NOT_FOUND);
  t.is(await code(() => old.consumer('another')), ErrorCode.TOPIC_NOT_FOUND);
  t.is(await code(async () => old.stats()), ErrorCode.TOPIC_NOT_FOUND);
  // The new topic: its own events and consumer position only, no retention policy.
  const positions = await fresh.listConsumers();
  t.deepEqual(positions.map((c) => c.name), ['app']);
  t.deepEqual(await fresh.retention(), {});
  const check = await fresh.consumer('check', { until: 'end', durable: false });
  const seen: unknown[] = [];
  for await (const e of check) seen.push(e.metadata);
  t.is(seen.length, 5);
  t.true(seen.every((m) => (m as { from: string }).from === 'new'));
  await other.close();
});

test('consumers starting while another process creates and deletes the topic never leave its name stuck', async (t) => {
  const root = tempDir(t);
  const loop = startChild('create-delete-loop.js', [root, 'z', '3000']);
  t.teardown(() => void loop.proc.kill('SIGKILL'));
  const d = await Driver.create('files', { root_path: root });
  let opened = 0;
  const until = Date.now() + 3000;
  while (Date.now() < until) {
    try {
      const topic = await d.openTopic('z');
      const c = await topic.consumer('app');
      await c.close();
      await topic.close();
      opened++;
    } catch (err) {
      t.true(([ErrorCode.TOPIC_NOT_FOUND, ErrorCode.CONSUMER_BUSY] as string[]).includes((err as { code: string }).code), String(err));
    }
  }
  await loop.waitFor(/^DONE/);
  t.log(`${opened} consumers opened while the topic came and went`);
  // Whatever state the name was left in, it works: it is a topic, or nothing (created again at once).
  if (!(await d.topicExists('z'))) await d.createTopic('z');
  await (await d.openTopic('z')).close();
  await d.deleteTopic('z');
  await d.createTopic('z');
  t.true(await d.topicExists('z'));
  await d.close();
});

test('an idle consumer of a deleted topic learns it from its claim watch as TOPIC_NOT_FOUND, not as a takeover (CONSUMER_BUSY)', async (t) => {
  const root = tempDir(t);
  const d = await Driver.create('files', { root_path: root });
  t.teardown(() => d.close().catch(() => undefined));
  await d.createTopic('z');
  const topic = await d.openTopic('z');
  const idle = await topic.consumer('idle');
  await (await Driver.create('files', { root_path: root })).deleteTopic('z');
  // The claim watch looks at the claim folder about once a second.
  await new Promise((r) => setTimeout(r, 2500));
  const err = await t.throwsAsync(idle.pull().wait());
  t.is((err as { code?: string }).code, ErrorCode.TOPIC_NOT_FOUND, String(err));
});
