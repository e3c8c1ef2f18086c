// EventBatch: answers by position from the engine's records; positions outside the batch are refused; metadata
// text is the stored text (no parse) for JSON-text serializers and JSON.stringify of the value otherwise; what
// console.log and JSON.stringify show.
import test, { type ExecutionContext } from 'ava';
import util from 'node:util';
import { DefaultSerializer, registerSerializer, type EventBatch, type JsonValue, type TopicHandle } from '../../lib/index.js';
import { tempDriver } from '../../lib/testing/index.js';

// Stores the value reversed in the default format's bytes (not JSON text): metadataText has to stringify the value.
registerSerializer('batch-test-reversed', () => {
  const inner = new DefaultSerializer();
  return {
    serialize: (md: JsonValue) => inner.serialize(md).reverse(),
    deserialize: (b: Uint8Array) => inner.deserialize(Uint8Array.from(b).reverse()),
    metadata: () => ({ type: 'batch-test-reversed' }),
  };
});

// Counts parses of the default format (stores JSON text).
let parses = 0;
registerSerializer('batch-test-counting', () => {
  const inner = new DefaultSerializer();
  return {
    storesJsonText: true,
    serialize: (md: JsonValue) => inner.serialize(md),
    deserialize: (b: Uint8Array) => (parses++, inner.deserialize(b)),
    metadata: () => ({ type: 'batch-test-counting' }),
  };
});

async function topicWith(t: ExecutionContext, serializer: string, texts: string[]): Promise<TopicHandle> {
  const { driver } = await tempDriver({ t });
  await driver.createTopic('t', { serializer: { type: serializer } });
  const topic = await driver.openTopic('t');
  const producer = topic.producer();
  for (const text of texts) void producer.push(JSON.parse(text) as JsonValue);
  await producer.flush();
  return topic;
}

async function firstBatch(topic: TopicHandle): Promise<EventBatch> {
  const consumer = await topic.consumer('c', { until: 'end', durable: false });
  let kept: EventBatch | undefined;
  await consumer.processBatches((b) => {
    kept ??= b;
  });
  await consumer.close();
  return kept!;
}

test('metadataText is the stored text without a parse; metadata parses once per event', async (t) => {
  const texts = ['{"a":1,"b":"x"}', '{"a":2,"b":"y"}', '[1,2,3]'];
  const batch = await firstBatch(await topicWith(t, 'batch-test-counting', texts));
  parses = 0;
  t.deepEqual([0, 1, 2].map((i) => batch.metadataText(i)), texts);
  t.is(parses, 0);
  t.deepEqual(batch.metadata(1), { a: 2, b: 'y' });
  t.is(batch.metadata(1), batch.metadata(1));
  t.is(parses, 1);
  t.deepEqual([...batch].map((e) => e.metadataText), texts, 'iterating gives the events');
});

test('metadataText of a serializer that does not store JSON text is JSON.stringify of the value', async (t) => {
  const batch = await firstBatch(await topicWith(t, 'batch-test-reversed', ['{"k":"v","n":[1,2]}', '7']));
  t.is(batch.metadataText(0), '{"k":"v","n":[1,2]}');
  t.is(batch.metadataText(1), '7');
  t.deepEqual(batch.metadata(0), { k: 'v', n: [1, 2] });
  t.not(Buffer.from(batch.metadataBytes(0)).toString(), '{"k":"v","n":[1,2]}', 'the stored bytes as the serializer wrote them');
});

test('positions outside the batch: RangeError; not a number: TypeError', async (t) => {
  const batch = await firstBatch(await topicWith(t, 'batch-test-counting', ['{"a":1}', '{"a":2}']));
  t.is(batch.length, 2);
  for (const bad of [-1, 2, 0.5, NaN, Infinity]) {
    t.throws(() => batch.id(bad), { instanceOf: RangeError }, String(bad));
    t.throws(() => batch.metadataText(bad), { instanceOf: RangeError }, String(bad));
    t.throws(() => batch.dataBytes(bad), { instanceOf: RangeError }, String(bad));
    t.throws(() => batch.acknowledge(bad), { instanceOf: RangeError }, String(bad));
  }
  t.throws(() => batch.id('0' as never), { instanceOf: TypeError });
  t.throws(() => batch.event(undefined as never), { instanceOf: TypeError });
});

test('JSON.stringify and console.log show the partition and the ids covered, not the mappings', async (t) => {
  const batch = await firstBatch(await topicWith(t, 'batch-test-counting', ['{"a":1}', '{"a":2}', '{"a":3}']));
  t.deepEqual(JSON.parse(JSON.stringify(batch)), { partition: 0, firstId: 0, length: 3 });
  t.is(util.inspect(batch), 'EventBatch { partition: 0, firstId: 0, length: 3 }');
  t.is(batch.lastId, 2);
});
