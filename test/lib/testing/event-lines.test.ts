// The JSON-lines form of events: formatEventLine writes the stored JSON text of the metadata (no parse and
// re-serialization) when it is one line of valid JSON, the value's JSON.stringify otherwise; the base64 check of
// parseEventLine.
import test, { type ExecutionContext } from 'ava';
import { formatEventLine, parseEventLine, tempDriver } from '../../../lib/testing/index.js';
import { DiasporaError, ErrorCode, type Event } from '../../../lib/index.js';

async function eventsOf(t: ExecutionContext, texts: string[], spec: object = {}): Promise<Event[]> {
  const { driver } = await tempDriver({ t });
  await driver.createTopic('t', spec);
  const topic = await driver.openTopic('t');
  const producer = topic.producer();
  for (const text of texts) void producer.push(text);
  await producer.flush();
  const consumer = await topic.consumer('c', { until: 'end' });
  const out: Event[] = [];
  for await (const e of consumer) out.push(e);
  return out;
}

test('the stored text is written as it is; a text spread over lines is written as its compact value', async (t) => {
  const texts = ['{ "b" : 1, "a": [2.50] }', '{\n  "a": 1\n}', '{"a":\r1}', '"x"', '["é😀", "\\ud83d\\ude00"]'];
  const lines = (await eventsOf(t, texts)).map((e) => formatEventLine(e, false));
  t.deepEqual(lines.map((l) => l.slice(l.indexOf('"metadata":'))), [
    '"metadata":{ "b" : 1, "a": [2.50] }}',
    '"metadata":{"a":1}}',
    '"metadata":{"a":1}}',
    '"metadata":"x"}',
    '"metadata":["é😀", "\\ud83d\\ude00"]}',
  ]);
  for (const l of lines) t.is(l.split('\n').length, 1);
  t.deepEqual(lines.map((l) => Object.keys(JSON.parse(l))), Array(5).fill(['partition', 'id', 'timestamp', 'metadata']));
});

test('a value stored by another serializer is written as its JSON', async (t) => {
  const schema = { type: 'object', properties: { a: { type: 'integer' } } };
  const [e] = await eventsOf(t, ['{ "a" : 7 }'], { serializer: { type: 'schema', schema } });
  t.deepEqual(JSON.parse(formatEventLine(e!)).metadata, { a: 7 });
});

test('parseEventLine takes standard base64 with or without padding and nothing else', (t) => {
  const ok = ['', 'aGk=', 'aGk', 'aGVsbG8=', 'aGVsbA==', 'aGVsbA', 'ab+/'];
  for (const data of ok) t.deepEqual(parseEventLine(JSON.stringify({ metadata: 1, data })).data, Buffer.from(data, 'base64'), data);
  for (const data of ['a', 'aGk=a', 'aG=k', 'aGVsbA===', 'ab-_', 'aG k', 'aGk=\n', '=aGk']) {
    const err = t.throws(() => parseEventLine(JSON.stringify({ metadata: 1, data })), { instanceOf: DiasporaError }, data);
    t.is(err?.code, ErrorCode.BAD_ARGUMENT);
  }
});

test('parseEventLine refuses a key it does not know (a misspelt "data" or "partition" was silently dropped)', (t) => {
  for (const line of ['{"metadata":1,"Data":"aGk="}', '{"metadata":1,"partiton":1}', '{"metadata":1,"meta":{}}']) {
    const err = t.throws(() => parseEventLine(line), { instanceOf: DiasporaError }, line);
    t.is(err?.code, ErrorCode.BAD_ARGUMENT);
    t.regex(err!.message, /^unknown key "(Data|partiton|meta)" \(an event line has metadata, data, partition/, line);
  }
  // What consume and dump write (id and timestamp too) is read back: the ids and times are the new topic's own.
  t.deepEqual(parseEventLine('{"partition":1,"id":7,"timestamp":5,"metadata":2,"data":""}'), { metadata: 2, data: Buffer.alloc(0), partition: 1 });
  const missing = t.throws(() => parseEventLine('{"data":"aGk="}'), { instanceOf: DiasporaError });
  t.regex(missing!.message, /^no "metadata" key/);
});
