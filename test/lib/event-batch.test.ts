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

test('batches read by position across segment ends and from a memory topic: every event once, in order, with its own text, data and time', async (t) => {
  const texts = Array.from({ length: 50 }, (_, i) => `{"i":${i},"s":"${'x'.repeat(i % 7)}"}`);
  const datas = texts.map((_, i) => (i % 4 === 0 ? Buffer.alloc(0) : Buffer.alloc(300 + i, i)));
  const files = (await tempDriver({ t, driverOptions: { segment_bytes: 4096 } })).driver;
  const { Driver } = await import('../../lib/index.js');
  const memory = await Driver.create('memory');
  t.teardown(() => memory.close());
  for (const driver of [files, memory]) {
    await driver.createTopic('segments');
    const topic = await driver.openTopic('segments');
    const producer = topic.producer();
    texts.forEach((text, i) => void producer.push(text, datas[i]!.length > 0 ? datas[i] : undefined));
    await producer.flush();
    const consumer = await topic.consumer('c', { until: 'end', batchSize: 16 });
    const seen: number[] = [];
    let batches = 0;
    await consumer.processBatches((b) => {
      batches++;
      for (let i = 0; i < b.length; i++) {
        const id = b.id(i);
        t.is(id, b.firstId + i);
        t.is(b.metadataText(i), texts[id]);
        t.deepEqual(Buffer.from(b.metadataBytes(i)), Buffer.from(texts[id]!));
        t.deepEqual(Buffer.from(b.dataBytes(i)), datas[id]);
        t.true(b.timestamp(i) > 0);
        t.is(b.event(i).id, id);
        t.deepEqual(b.event(i).metadata, JSON.parse(texts[id]!));
        seen.push(id);
      }
      t.is(b.lastId, b.firstId + b.length - 1);
      b.acknowledge();
    });
    await consumer.close();
    t.deepEqual(seen, texts.map((_, i) => i), driver === files ? 'files' : 'memory');
    t.true(batches >= 50 / 16, `${batches} batches`);
  }
});
