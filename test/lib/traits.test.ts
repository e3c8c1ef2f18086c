// Traits of the whole public surface: every public method of Driver, TopicHandle, Producer and Consumer, called with
// unknown option keys, values out of range, on a closed object and on one that is closing, fails with its documented
// error, and leaves the data folder exactly as it was (same files, sizes and bytes).
import test, { type ExecutionContext } from 'ava';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DiasporaError, Driver, ErrorCode, type Consumer, type Event, type Producer, type TopicHandle } from '../../lib/index.js';
import { tempDir } from '../temp-dir.js';

interface Fixture {
  root: string;
  driver: Driver;
  topic: TopicHandle;
  producer: Producer;
  consumer: Consumer;
  event: Event;
}

async function fixture(t: ExecutionContext): Promise<Fixture> {
  const root = path.join(tempDir(t, 'diaspora-traits-'), 'root');
  const driver = await Driver.create('files', { root_path: root });
  t.teardown(() => driver.close());
  await driver.createTopic('t', { options: { num_partitions: 2 } });
  const topic = await driver.openTopic('t');
  const producer = topic.producer();
  await producer.push({ a: 1 }, Buffer.from('one'));
  await producer.push({ a: 2 }, Buffer.from('two'));
  await producer.flush();
  const consumer = await topic.consumer('c');
  const event = (await consumer.pull())!;
  await event.acknowledge();
  return { root, driver, topic, producer, consumer, event };
}

/**
 * Every file and folder under root with its size and content hash (claim heartbeats change only mtimes). While an
 * object is closing, its close releases the consumer's claims and the writer's lease meanwhile: `withoutLocks`
 * leaves those lock folders out (lock state, not data).
 */
function tree(root: string, withoutLocks = false): string[] {
  if (!fs.existsSync(root)) return [];
  return (fs.readdirSync(root, { recursive: true }) as string[])
    .filter((rel) => !(withoutLocks && (rel.includes('.claim') || rel.includes('writer.lock'))))
    .sort()
    .map((rel) => {
      const full = path.join(root, rel);
      const st = fs.statSync(full);
      if (!st.isFile()) return `${rel}/`;
      return `${rel} ${st.size} ${crypto.createHash('sha1').update(fs.readFileSync(full)).digest('hex')}`;
    });
}

type Expected = ErrorCode | 'TypeError';

/** Runs `call`, which must fail (synchronously or not) with `expected`, and checks that nothing on disk changed. */
async function refused(t: ExecutionContext, root: string, label: string, expected: Expected, call: () => unknown, closing = false): Promise<void> {
  const before = tree(root, closing);
  let error: unknown;
  try {
    await call();
  } catch (err) {
    error = err;
  }
  if (expected === 'TypeError') t.true(error instanceof TypeError, `${label}: expected a TypeError, got ${String(error)}`);
  else t.is((error as DiasporaError | undefined)?.code, expected, `${label}: ${String(error)}`);
  t.deepEqual(tree(root, closing), before, `${label}: the data folder changed`);
}

test('unknown option keys and values out of range, method by method', async (t) => {
  const { root, driver, topic, producer, consumer } = await fixture(t);
  const cases: Array<[string, Expected, () => unknown]> = [
    ['Driver.create unknown key', ErrorCode.BAD_CONFIG, () => Driver.create('files', { root_path: root, rootpath: 'x' })],
    ['Driver.create segment_bytes 2^31', ErrorCode.BAD_CONFIG, () => Driver.create('files', { root_path: root, segment_bytes: 2 ** 31 })],
    ['Driver.create flush_behavior', ErrorCode.BAD_CONFIG, () => Driver.create('files', { root_path: root, flush_behavior: 'never' })],
    ['Driver.create options type', 'TypeError', () => Driver.create('files', 'x' as never)],
    ['createTopic spec key', ErrorCode.BAD_CONFIG, () => driver.createTopic('n', { validtor: 'default' } as never)],
    ['createTopic option key', ErrorCode.BAD_CONFIG, () => driver.createTopic('n', { options: { partitions: 4 } } as never)],
    ['createTopic num_partitions 0', ErrorCode.BAD_CONFIG, () => driver.createTopic('n', { options: { num_partitions: 0 } })],
    ['createTopic num_partitions 65537', ErrorCode.BAD_CONFIG, () => driver.createTopic('n', { options: { num_partitions: 65537 } })],
    ['createTopic component key', ErrorCode.BAD_CONFIG, () => driver.createTopic('n', { validator: { type: 'default', strict: true } })],
    ['createTopic options null', 'TypeError', () => driver.createTopic('n', { options: null } as never)],
    ['createTopic validator null', 'TypeError', () => driver.createTopic('n', { validator: null } as never)],
    ['createTopic serializer number', 'TypeError', () => driver.createTopic('n', { serializer: 5 } as never)],
    ['createTopic existing', ErrorCode.TOPIC_EXISTS, () => driver.createTopic('t')],
    ['createTopic lone surrogate', ErrorCode.BAD_NAME, () => driver.createTopic('\ud800')],
    ['openTopic missing', ErrorCode.TOPIC_NOT_FOUND, () => driver.openTopic('missing')],
    ['deleteTopic missing', ErrorCode.TOPIC_NOT_FOUND, () => driver.deleteTopic('missing')],
    ['convertTopic format', ErrorCode.BAD_ARGUMENT, () => driver.convertTopic('t', 'u', 'parquet')],
    ['Driver.resetConsumer partition', ErrorCode.OUT_OF_RANGE, () => driver.resetConsumer('t', 'c2', 'earliest', [2])],
    ['Driver.resetConsumer position', 'TypeError', () => driver.resetConsumer('t', 'c2', 'first' as never)],
    ['topic.producer unknown key', ErrorCode.BAD_CONFIG, () => topic.producer({ batchsize: 5 } as never)],
    ['topic.producer batchSize 0', ErrorCode.BAD_CONFIG, () => topic.producer({ batchSize: 0 })],
    ['topic.producer ordering', ErrorCode.BAD_CONFIG, () => topic.producer({ ordering: 'any' as never })],
    ['topic.producer ordering type', 'TypeError', () => topic.producer({ ordering: 1 as never })],
    ['topic.consumer unknown key', ErrorCode.BAD_CONFIG, () => topic.consumer('c2', { untill: 'end' } as never)],
    ['topic.consumer from', ErrorCode.BAD_CONFIG, () => topic.consumer('c2', { from: 'first' as never })],
    ['topic.consumer maxNumBatches', ErrorCode.BAD_CONFIG, () => topic.consumer('c2', { maxNumBatches: 0 })],
    ['topic.consumer targets', ErrorCode.OUT_OF_RANGE, () => topic.consumer('c2', { targets: [5] })],
    ['topic.consumer busy', ErrorCode.CONSUMER_BUSY, () => topic.consumer('c')],
    ['topic.consumer name', ErrorCode.BAD_NAME, () => topic.consumer('')],
    ['topic.resetConsumer partition', ErrorCode.OUT_OF_RANGE, () => topic.resetConsumer('c2', 0, [9])],
    ['topic.resetConsumer while running', ErrorCode.CONSUMER_BUSY, () => topic.resetConsumer('c', 'earliest')],
    ['push partition 2 of 2', ErrorCode.OUT_OF_RANGE, () => producer.push({ a: 3 }, undefined, 2)],
    ['push partition 1e9', ErrorCode.OUT_OF_RANGE, () => producer.push({ a: 3 }, undefined, 1e9)],
    ['push negative partition', 'TypeError', () => producer.push({ a: 3 }, undefined, -1)],
    ['push NaN metadata', 'TypeError', () => producer.push({ a: NaN })],
    ['push lone surrogate', 'TypeError', () => producer.push({ a: '\udfff' })],
    ['push bad JSON text', ErrorCode.BAD_JSON, () => producer.push('{nope')],
    ['push data type', 'TypeError', () => producer.push({ a: 3 }, 'bytes' as never)],
    ['process unknown key', ErrorCode.BAD_CONFIG, () => consumer.process(() => {}, { max: 1 } as never)],
    ['process maxEvents', ErrorCode.BAD_CONFIG, () => consumer.process(() => {}, { maxEvents: 1.5 })],
    ['process ordering', ErrorCode.BAD_CONFIG, () => consumer.process(() => {}, { ordering: 'x' as never })],
    ['process processor type', 'TypeError', () => consumer.process('f' as never)],
  ];
  for (const [label, expected, call] of cases) await refused(t, root, label, expected, call);
  await producer.flush();
  t.deepEqual((await topic.stats()).partitions.map((p) => p.events), [1, 1], 'no refused push was written');
});

/** The calls of every public method of each object, for the closed and closing states. */
function everyMethod(fx: Fixture): Array<[string, () => unknown]> {
  const { driver, topic, producer, consumer, event } = fx;
  return [
    ['driver.createTopic', () => driver.createTopic('n')],
    ['driver.openTopic', () => driver.openTopic('t')],
    ['driver.topicExists', () => driver.topicExists('t')],
    ['driver.listTopics', () => driver.listTopics()],
    ['driver.deleteTopic', () => driver.deleteTopic('t')],
    ['driver.convertTopic', () => driver.convertTopic('t', 'u', 'reference')],
    ['driver.listConsumers', () => driver.listConsumers('t')],
    ['driver.resetConsumer', () => driver.resetConsumer('t', 'c2', 'earliest')],
    ['driver.makeThreadPool', () => driver.makeThreadPool(1)],
    ['driver.defaultThreadPool', () => driver.defaultThreadPool()],
    ['topic.producer', () => topic.producer()],
    ['topic.consumer', () => topic.consumer('c2')],
    ['topic.stats', () => topic.stats()],
    ['topic.verify', () => topic.verify()],
    ['topic.listConsumers', () => topic.listConsumers()],
    ['topic.resetConsumer', () => topic.resetConsumer('c2', 'earliest')],
    ['producer.push', () => producer.push({ late: true })],
    ['producer.flush', () => producer.flush()],
    ['consumer.pull', () => consumer.pull()],
    ['consumer.process', () => consumer.process(() => {})],
    ['consumer.lag', () => consumer.lag()],
    ['consumer for await', async () => {
      for await (const e of consumer) void e;
    }],
  ];
}

/** Which calls a closed object refuses: those of the object itself and of everything opened from it. */
const OWNED: Record<string, string[]> = {
  driver: ['driver.', 'topic.', 'producer.', 'consumer'],
  topic: ['topic.', 'producer.', 'consumer'],
  producer: ['producer.'],
  consumer: ['consumer'],
};

for (const state of ['closed', 'closing'] as const) {
  for (const owner of ['driver', 'topic', 'producer', 'consumer'] as const) {
    test(`${state} ${owner}: every method it owns fails with CLOSED and changes nothing`, async (t) => {
      const fx = await fixture(t);
      const closing = fx[owner].close();
      if (state === 'closed') await closing;
      const calls = everyMethod(fx).filter(([label]) => OWNED[owner]!.some((prefix) => label.startsWith(prefix)));
      t.true(calls.length >= 2);
      for (const [label, call] of calls) await refused(t, fx.root, `${label} (${owner} ${state})`, ErrorCode.CLOSED, call, state === 'closing');
      await closing;
      if (owner === 'consumer' || owner === 'topic' || owner === 'driver') {
        // An event of a closed consumer can no longer acknowledge.
        await refused(t, fx.root, `event.acknowledge (${owner} ${state})`, ErrorCode.CLOSED, () => fx.event.acknowledge());
      }
      await t.notThrowsAsync(fx[owner].close(), 'close is idempotent');
    });
  }
}
