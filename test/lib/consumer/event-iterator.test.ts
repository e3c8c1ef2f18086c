// The consumer's async iterator (lib/consumer/event-iterator.ts): what `for await` relies on beyond the error model
// of iteration-errors.test.ts. Leaving a loop early writes its acknowledgements before the loop statement ends;
// next() calls made while one waits for events are served in order; the iterator is its own async iterable.
import test from 'ava';
import path from 'node:path';
import { Driver, type TopicHandle } from '../../../lib/index.js';
import { startChild } from '../child.js';
import { tempDir } from '../../temp-dir.js';

interface Md {
  i: number;
}

async function openTopic(t: Parameters<typeof tempDir>[0], n: number): Promise<{ root: string; topic: TopicHandle }> {
  const root = path.join(tempDir(t, 'diaspora-event-iterator-'), 'root');
  const driver = await Driver.create('files', { root_path: root });
  t.teardown(() => driver.close());
  await driver.createTopic('t');
  const topic = await driver.openTopic('t');
  if (n > 0) {
    const p = topic.producer<Md>();
    for (let i = 0; i < n; i++) void p.push({ i });
    await p.flush();
    await p.close();
  }
  return { root, topic };
}

test('a break writes the acknowledgements made in the loop: a process exiting right after it resumes there', async (t) => {
  const { root, topic } = await openTopic(t, 20);
  // Acknowledgements nobody waits for are written at the end of the turn; the child exits before that turn ends.
  const child = startChild('break-and-exit.js', [root, 't', 'b', '6']);
  await child.waitFor(/^BROKE/);
  t.is((await child.exited).code, 0, child.stderr());
  const again = await topic.consumer<Md>('b', { until: 'end' });
  const ids: number[] = [];
  for await (const e of again) ids.push(e.id);
  await again.close();
  t.deepEqual(ids, [7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
});

test('next() calls made while one waits for events are served in order, one event each', async (t) => {
  const { topic } = await openTopic(t, 0);
  const c = await topic.consumer<Md>('w');
  const it = c[Symbol.asyncIterator]();
  t.is(it[Symbol.asyncIterator](), it, 'the iterator is its own async iterable');
  const pending = [it.next(), it.next(), it.next()];
  const p = topic.producer<Md>();
  for (let i = 0; i < 3; i++) void p.push({ i });
  await p.flush();
  const got = await Promise.all(pending);
  t.deepEqual(
    got.map((r) => (r.done ? 'done' : r.value.metadata.i)),
    [0, 1, 2],
  );
  // A return() made while a next() waits comes after it: that next() still gets its event, later calls get the end.
  const waiting = it.next();
  const returned = it.return!();
  void p.push({ i: 3 });
  await p.flush();
  const r = await waiting;
  t.is(r.done ? 'done' : r.value.metadata.i, 3);
  t.deepEqual(await returned, { value: undefined, done: true });
  t.deepEqual(await it.next(), { value: undefined, done: true }, 'after return(), the iterator stays done');
  await p.close();
  await c.close();
});

test('calls made while one waits for a turn of the event loop are served after it, in order', async (t) => {
  const { topic } = await openTopic(t, 1000);
  const c = await topic.consumer<Md>('burst', { until: 'end' });
  const it = c[Symbol.asyncIterator]();
  for (let i = 0; i < 100; i++) await it.next();
  // After 20 ms of delivery the next 256th call lets the event loop turn first (it waits for a setImmediate); a burst
  // of 300 calls made without waiting contains such a call, and the calls after it must not overtake it.
  await new Promise((r) => setTimeout(r, 25));
  const burst = await Promise.all(Array.from({ length: 300 }, () => it.next()));
  t.deepEqual(
    burst.map((r) => (r.done ? -1 : r.value.metadata.i)),
    Array.from({ length: 300 }, (_, k) => 100 + k),
  );
  await it.return!();
  await c.close();
});

test('a long backlog is delivered in order with timers running in between', async (t) => {
  const n = 60_000;
  const { topic } = await openTopic(t, n);
  const c = await topic.consumer<Md>('long', { until: 'end' });
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  let expected = 0;
  for await (const e of c) {
    if (e.metadata.i !== expected) break;
    expected++;
    if (expected % 1000 === 0) void e.acknowledge();
  }
  clearInterval(timer);
  await c.close();
  t.is(expected, n);
  t.true(ticks > 0, 'the loop let the event loop turn');
  const [position] = await topic.listConsumers();
  t.deepEqual(position?.partitions, [{ partition: 0, lastAcknowledged: n - 1 }]);
});
