// The one lifecycle of Driver, TopicHandle, Producer and Consumer: the status moves forward only, and every closed
// object refuses calls with the same typed error (CLOSED). The per-driver transitions are in the conformance suite.
import test from 'ava';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Driver, DiasporaError, ErrorCode } from '../../lib/index.js';
import { Lifecycle } from '../../lib/lifecycle.js';
import { tempDir } from '../temp-dir.js';

const isClosedError = (err: unknown): boolean => err instanceof DiasporaError && err.code === ErrorCode.CLOSED;

test('Lifecycle: starts opening, moves forward only, and check() throws CLOSED naming the object once closing', (t) => {
  const l = new Lifecycle(() => 'thing "x"');
  t.is(l.status, 'opening');
  t.notThrows(() => l.check());
  l.to('open');
  t.is(l.status, 'open');
  l.to('closing');
  t.true(l.ending);
  t.false(l.isClosed);
  const err = t.throws(() => l.check());
  t.true(isClosedError(err));
  t.regex(err!.message, /thing "x" is closed/);
  l.to('open'); // a late "opened" never reopens a closing object
  t.is(l.status, 'closing');
  l.to('closed');
  l.to('closing');
  t.is(l.status, 'closed');
  t.true(l.isClosed);
});

test('closing a driver closes what was opened from it: every status is closed and every call is CLOSED', async (t) => {
  const driver = await Driver.create('files', { root_path: tempDir(t) });
  await driver.createTopic('t', { options: { num_partitions: 2 } });
  const topic = await driver.openTopic('t');
  const producer = topic.producer();
  await producer.push({ a: 1 });
  const consumer = await topic.consumer('c');
  t.deepEqual([driver.status, topic.status, producer.status, consumer.status], ['open', 'open', 'open', 'open']);
  const pending = consumer.pull();
  t.is((await pending)!.id, 0);
  const waiting = consumer.pull(); // nothing more: parked until close
  const closing = driver.close();
  t.is(driver.status, 'closing');
  await closing;
  t.is(await waiting, null, 'a parked pull ends with null');
  t.deepEqual([driver.status, topic.status, producer.status, consumer.status], ['closed', 'closed', 'closed', 'closed']);
  t.true(isClosedError(await t.throwsAsync(driver.createTopic('u'))));
  t.true(isClosedError(await t.throwsAsync(driver.openTopic('t'))));
  t.true(isClosedError(t.throws(() => topic.producer())));
  t.true(isClosedError(await t.throwsAsync(topic.consumer('d'))));
  t.true(isClosedError(await t.throwsAsync(producer.push({}).wait())));
  t.true(isClosedError(await t.throwsAsync(consumer.pull().wait())));
  t.true(isClosedError(await t.throwsAsync(consumer.lag())));
  await t.notThrowsAsync(driver.close()); // idempotent
  await t.notThrowsAsync(consumer.close());
});

test('a consumer closed on its own is closing until its processor finished, then closed; its topic stays open', async (t) => {
  const driver = await Driver.create('files', { root_path: tempDir(t) });
  t.teardown(() => driver.close());
  await driver.createTopic('t');
  const topic = await driver.openTopic('t');
  await topic.producer().push({ a: 1 }).wait(10_000);
  const consumer = await topic.consumer('c');
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let entered!: () => void;
  const inside = new Promise<void>((r) => (entered = r));
  const run = consumer.process(async (e) => {
    entered();
    await gate;
    await e.acknowledge();
  });
  await inside;
  const closing = consumer.close();
  t.is(consumer.status, 'closing');
  t.true(isClosedError(await t.throwsAsync(consumer.pull().wait())));
  release();
  await closing;
  t.is(await run, 1);
  t.is(consumer.status, 'closed');
  t.is(topic.status, 'open');
  const again = await topic.consumer('c', { until: 'end' });
  t.is(await again.pull(), null, 'the acknowledgement made while closing was kept');
});

test('a long-lived driver and topic handle keep no producer, consumer or topic handle once it is closed', async (t) => {
  const driver = await Driver.create('files', { root_path: tempDir(t) });
  t.teardown(() => driver.close());
  await driver.createTopic('t');
  const topic = await driver.openTopic('t');
  const closed: WeakRef<object>[] = [];
  // One function call per round: nothing of a round stays in this function's frame.
  const round = async (i: number): Promise<void> => {
    const producer = topic.producer();
    await producer.push({ i });
    await producer.close();
    const consumer = await topic.consumer(`c${i}`, { until: 'end' });
    await consumer.pull();
    await consumer.close();
    const again = await driver.openTopic('t');
    again.producer(); // closed by its topic's close
    await again.close();
    closed.push(new WeakRef(producer), new WeakRef(consumer), new WeakRef(again));
  };
  for (let i = 0; i < 10; i++) await round(i);
  const open = topic.producer(); // still open: its topic keeps it, and closes it
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  for (let k = 0; k < 5; k++) {
    gc();
    await new Promise((r) => setTimeout(r, 5));
  }
  t.is(closed.filter((r) => r.deref() !== undefined).length, 0, `closed handles are still referenced: ${closed.map((r, k) => (r.deref() !== undefined ? ['producer', 'consumer', 'topic'][k % 3] + Math.floor(k / 3) : '')).filter(Boolean).join(' ')}`);
  await topic.close();
  t.is(open.status, 'closed');
});
