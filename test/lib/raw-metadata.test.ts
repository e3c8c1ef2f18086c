// Metadata pushed as JSON text or bytes, and read back lazily: stored as given when nothing needs the value,
// parsed (and validated, routed) when something does; Event parses only when `metadata` is read.
import test, { type ExecutionContext } from 'ava';
import {
  DefaultSerializer,
  DiasporaError,
  ErrorCode,
  registerPartitionSelector,
  registerSerializer,
  type Event,
  type JsonValue,
  type TopicHandle,
} from '../../lib/index.js';
import { tempDriver } from '../../lib/testing/index.js';
import { openTopicStore } from '../../storage/open-topic.js';

// A serializer with the default wire format that counts its calls (stores JSON text, so metadataText needs no parse).
const calls = { serialize: 0, deserialize: 0 };
registerSerializer('counting-json', () => {
  const inner = new DefaultSerializer();
  return {
    storesJsonText: true,
    serialize: (md: JsonValue) => (calls.serialize++, inner.serialize(md)),
    deserialize: (b: Uint8Array) => (calls.deserialize++, inner.deserialize(b)),
    metadata: () => ({ type: 'counting-json' }),
  };
});
// Routes by the "p" field of the metadata (it needs the value).
registerPartitionSelector('by-field-p', () => ({
  setPartitions() {},
  selectPartitionFor: (md: JsonValue) => (md as { p: number }).p,
  metadata: () => ({ type: 'by-field-p' }),
}));

async function topicOf(t: ExecutionContext, spec: object = {}, partitions = 1): Promise<TopicHandle> {
  const { driver } = await tempDriver({ t });
  await driver.createTopic('t', { options: { num_partitions: partitions }, ...spec });
  return driver.openTopic('t');
}

async function readAll(topic: TopicHandle, options: object = {}): Promise<Event[]> {
  const consumer = await topic.consumer('reader', { until: 'end', durable: false, ...options });
  const events: Event[] = [];
  for await (const e of consumer) events.push(e);
  await consumer.close();
  return events;
}

test('text and bytes are stored as given with the default components; the value parses from them', async (t) => {
  const topic = await topicOf(t);
  const producer = topic.producer();
  const text = '{ "b": 1,\n "a": ["é", null] }';
  const bytes = Buffer.from('[1, 2.50, {"k":"v"}]');
  await producer.push(text).wait();
  await producer.push(bytes).wait();
  bytes.fill(0x20); // the producer copied the bytes it checked
  await producer.push({ b: 1, a: ['é', null] }).wait();
  const [e0, e1, e2] = await readAll(topic);
  t.is(e0.metadataText, text);
  t.deepEqual(Buffer.from(e0.metadataBytes), Buffer.from(text, 'utf8'));
  t.deepEqual(e0.metadata, { b: 1, a: ['é', null] });
  t.is(e0.metadata, e0.metadata); // parsed once, the same object afterwards
  t.is(e1.metadataText, '[1, 2.50, {"k":"v"}]');
  t.deepEqual(e1.metadata, [1, 2.5, { k: 'v' }]);
  t.is(e2.metadataText, '{"b":1,"a":["é",null]}'); // a value is stored compact, as before
});

test('invalid text or bytes reject with BAD_JSON and write nothing; events before and after are intact', async (t) => {
  const topic = await topicOf(t);
  const producer = topic.producer();
  await producer.push('{"ok":0}').wait();
  for (const bad of ['{"a":', '{"a":1}x', '"\\ud800"', '1e400', Buffer.from([0x22, 0xc0, 0xaf, 0x22]), new Uint8Array(0)]) {
    const err = await t.throwsAsync(producer.push(bad as string).wait(), { instanceOf: DiasporaError });
    t.is(err?.code, ErrorCode.BAD_JSON, String(bad));
  }
  await producer.push('{"ok":1}').wait();
  await producer.flush().wait();
  const events = await readAll(topic);
  t.deepEqual(events.map((e) => [e.id, e.metadataText]), [[0, '{"ok":0}'], [1, '{"ok":1}']]);
});

test('with a validator the text is parsed and validated, and the value is stored compact', async (t) => {
  const topic = await topicOf(t, { validator: { type: 'schema', schema: { type: 'object', required: ['x'] } } });
  const producer = topic.producer();
  const err = await t.throwsAsync(producer.push('{ "y": 1 }').wait());
  t.is((err as DiasporaError).code, ErrorCode.INVALID_METADATA);
  const bad = await t.throwsAsync(producer.push('{ "x": ').wait());
  t.is((bad as DiasporaError).code, ErrorCode.BAD_JSON);
  await producer.push('{ "x": 1 }').wait();
  await producer.push(Buffer.from('{ "x": 2 }')).wait();
  const events = await readAll(topic);
  t.deepEqual(events.map((e) => e.metadataText), ['{"x":1}', '{"x":2}']);
});

test('a partition selector that reads a field gets the parsed value of text and bytes', async (t) => {
  const topic = await topicOf(t, { partitionSelector: { type: 'by-field-p' } }, 3);
  const producer = topic.producer();
  await producer.push('{"p":2,"n":0}').wait();
  await producer.push(Buffer.from('{"p":1,"n":1}')).wait();
  await producer.push({ p: 2, n: 2 }).wait();
  const events = await readAll(topic);
  t.deepEqual(events.map((e) => [e.partition, (e.metadata as { n: number }).n]).sort(), [[1, 1], [2, 0], [2, 2]]);
});

test('consumer: metadata is parsed only when read; a data selector parses only what it needs, shared with the event', async (t) => {
  const topic = await topicOf(t, { serializer: { type: 'counting-json' } });
  const producer = topic.producer();
  for (let i = 0; i < 10; i++) producer.push({ i, big: i % 2 === 0 }, Buffer.alloc(100, i));
  await producer.flush().wait();

  calls.deserialize = 0;
  const plain = await readAll(topic);
  t.deepEqual(plain.map((e) => e.metadataText), Array.from({ length: 10 }, (_, i) => JSON.stringify({ i, big: i % 2 === 0 })));
  t.is(calls.deserialize, 0, 'metadataText and metadataBytes need no parse');
  t.deepEqual(plain[3].metadata, { i: 3, big: false });
  t.is(plain[3].metadata, plain[3].metadata);
  t.is(calls.deserialize, 1, 'parsed once, on first read');

  // A selector reading a top-level number or boolean is answered from the text: no parse at all.
  calls.deserialize = 0;
  const selected = await readAll(topic, {
    dataSelector: (md: JsonValue, d: { makeSubView(o: number, n: number): unknown }) =>
      (md as { big: boolean }).big ? d.makeSubView(0, 4) : null,
  });
  t.deepEqual(selected.map((e) => e.data.size), [4, 0, 4, 0, 4, 0, 4, 0, 4, 0]);
  t.is(calls.deserialize, 0);
  t.deepEqual(selected[4].metadata, { i: 4, big: true });
  t.is(calls.deserialize, 1);

  // One that needs the whole value (here: JSON.stringify) parses once per event, and the event keeps that value.
  calls.deserialize = 0;
  const seen: string[] = [];
  const whole = await readAll(topic, {
    dataSelector: (md: JsonValue) => {
      seen.push(JSON.stringify(md));
      return null;
    },
  });
  t.is(calls.deserialize, 10);
  t.deepEqual(seen, plain.map((e) => e.metadataText));
  t.deepEqual(whole.map((e) => e.metadata), plain.map((e) => JSON.parse(e.metadataText)));
  t.is(calls.deserialize, 10, 'the event reuses the value parsed for the selector');
});

test('stored bytes a serializer cannot decode: the event is delivered, reading metadata is a CORRUPTION error', async (t) => {
  // The raw path never stores such bytes; a foreign writer could. Simulated with a serializer whose decoding fails.
  registerSerializer('undecodable', () => ({
    serialize: (md: JsonValue) => Buffer.from(JSON.stringify(md)),
    deserialize: () => {
      throw new Error('cannot decode');
    },
    metadata: () => ({ type: 'undecodable' }),
  }));
  const topic = await topicOf(t, { serializer: { type: 'undecodable' } });
  await topic.producer().push({ a: 1 }).wait();
  const [e] = await readAll(topic);
  t.deepEqual(Buffer.from(e.metadataBytes), Buffer.from('{"a":1}'));
  const err = t.throws(() => e.metadata, { instanceOf: DiasporaError });
  t.is(err?.code, ErrorCode.CORRUPTION);
  t.is(t.throws(() => e.metadataText)?.constructor, DiasporaError); // text of a non-text serializer goes through the value
});

test('stored metadata that is not UTF-8 (a foreign writer): metadataText is a CORRUPTION error naming the event, the bytes stay readable', async (t) => {
  const { driver, root } = await tempDriver({ t });
  await driver.createTopic('t');
  // Written below the API, as another writer could: the producer never stores such bytes.
  const store = openTopicStore(root, 't');
  try {
    store.partition(0).append([{ metadata: Buffer.from('{"ok":1}') }, { metadata: Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d]) }]);
  } finally {
    store.close();
  }
  const events = await readAll(await driver.openTopic('t'));
  t.is(events[0]!.metadataText, '{"ok":1}');
  const err = t.throws(() => events[1]!.metadataText, { instanceOf: DiasporaError });
  t.is(err?.code, ErrorCode.CORRUPTION);
  t.regex(err!.message, /event 1/);
  t.deepEqual(Buffer.from(events[1]!.metadataBytes), Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d]));
});

test('metadata that is neither a JSON value nor text is still a TypeError at push', async (t) => {
  const topic = await topicOf(t);
  const producer = topic.producer();
  t.throws(() => producer.push(undefined as never), { instanceOf: TypeError });
  t.throws(() => producer.push((() => 1) as never), { instanceOf: TypeError });
});
