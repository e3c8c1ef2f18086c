// Every options object is checked where it enters the API: an unknown key (a typo) or a value out of its documented
// range is BAD_CONFIG naming the key, a wrong type is a TypeError, and nothing is created or written.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { DiasporaError, Driver, ErrorCode, type TopicHandle } from '../../lib/index.js';
import { tempDir } from '../temp-dir.js';

async function driverIn(t: Parameters<typeof tempDir>[0]): Promise<{ driver: Driver; root: string }> {
  const root = path.join(tempDir(t, 'diaspora-options-'), 'root');
  const driver = await Driver.create('files', { root_path: root });
  t.teardown(() => driver.close());
  return { driver, root };
}

async function topicIn(t: Parameters<typeof tempDir>[0], partitions = 2): Promise<TopicHandle> {
  const { driver } = await driverIn(t);
  await driver.createTopic('t', { options: { num_partitions: partitions } });
  return driver.openTopic('t');
}

function badConfig(t: { is(a: unknown, b: unknown, m?: string): void; regex(s: string, r: RegExp, m?: string): void }, err: unknown, key: string): void {
  t.is((err as DiasporaError).code, ErrorCode.BAD_CONFIG, String(err));
  t.regex((err as Error).message, new RegExp(key), 'the message names the key');
}

test('createTopic: typos in the spec, the topic options and component configs are BAD_CONFIG, nothing created', async (t) => {
  const { driver, root } = await driverIn(t);
  const cases: Array<[string, object]> = [
    ['"partitions"', { options: { partitions: 4 } }],
    ['"num_partition"', { options: { num_partition: 3 } }],
    ['"validtor"', { validtor: 'default' }],
    ['"shema"', { validator: { type: 'schema', shema: { type: 'object' } } }],
    ['"extra"', { serializer: { type: 'default', extra: 1 } }],
    ['"mode"', { partitionSelector: { type: 'default', mode: 'hash' } }],
  ];
  for (const [key, spec] of cases) {
    const err = await t.throwsAsync(driver.createTopic('t', spec as never));
    badConfig(t, err, key);
    t.regex((err as Error).message, /valid: /, 'the message lists the valid keys');
  }
  t.false(await driver.topicExists('t'));
  t.deepEqual(fs.readdirSync(root), []);
  // The message of the very first case, as a user sees it.
  const err = await t.throwsAsync(driver.createTopic('t', { options: { partitions: 4 } } as never));
  t.is(err!.message, 'Unknown key "partitions" in topic options (valid: num_partitions, retention_ms, retention_bytes, retention_acked_by)');
});

test('Driver.create: segment_bytes above 1 GiB, claim_stale_ms beyond a timer and unknown driver options are BAD_CONFIG', async (t) => {
  const root = path.join(tempDir(t, 'diaspora-options-'), 'root');
  badConfig(t, await t.throwsAsync(Driver.create('files', { root_path: root, segment_bytes: 2 ** 31 })), 'segment_bytes');
  badConfig(t, await t.throwsAsync(Driver.create('files', { root_path: root, segment_bytes: 2 ** 30 + 1 })), 'segment_bytes');
  badConfig(t, await t.throwsAsync(Driver.create('files', { root_path: root, flush: 'immediate' })), 'flush');
  // A held claim checks every quarter of claim_stale_ms with a timer, which holds at most 2^31 - 1 ms.
  badConfig(t, await t.throwsAsync(Driver.create('files', { root_path: root, claim_stale_ms: 2 ** 31 })), 'claim_stale_ms');
  badConfig(t, await t.throwsAsync(Driver.create('memory', { root_path: root })), 'root_path');
  t.false(fs.existsSync(root), 'a refused driver creates no root');
  const ok = await Driver.create('files', { root_path: root, segment_bytes: 2 ** 30 });
  await ok.close();
});

test('producer: an unknown key or a value out of range is BAD_CONFIG; a wrong type is a TypeError', async (t) => {
  const topic = await topicIn(t);
  badConfig(t, t.throws(() => topic.producer({ batchsize: 5 } as never)), 'batchsize');
  badConfig(t, t.throws(() => topic.producer({ batchSize: 0 })), 'batchSize');
  badConfig(t, t.throws(() => topic.producer({ batchSize: 2.5 })), 'batchSize');
  badConfig(t, t.throws(() => topic.producer({ maxNumBatches: -1 })), 'maxNumBatches');
  badConfig(t, t.throws(() => topic.producer({ ordering: 'bogus' as never })), 'ordering');
  t.throws(() => topic.producer({ batchSize: '5' as never }), { instanceOf: TypeError });
  t.throws(() => topic.producer({ ordering: 0 as never }), { instanceOf: TypeError });
  t.throws(() => topic.producer('p' as never), { instanceOf: TypeError });
  const p = topic.producer({ batchSize: 5, name: 'p' });
  t.is(p.batchSize, 5);
});

test('consumer: typos such as untill and form are BAD_CONFIG at once (untill would otherwise wait forever)', async (t) => {
  const topic = await topicIn(t);
  await topic.producer().push({ a: 1 });
  badConfig(t, await t.throwsAsync(topic.consumer('c', { untill: 'end' } as never)), 'untill');
  badConfig(t, await t.throwsAsync(topic.consumer('c', { form: 'earliest' } as never)), 'form');
  badConfig(t, await t.throwsAsync(topic.consumer('c', { until: 'forever' as never })), 'until');
  badConfig(t, await t.throwsAsync(topic.consumer('c', { from: 'first' as never })), 'from');
  badConfig(t, await t.throwsAsync(topic.consumer('c', { from: -1 })), 'from');
  badConfig(t, await t.throwsAsync(topic.consumer('c', { from: 2 ** 60 })), 'from'); // not a safe integer: no id
  badConfig(t, await t.throwsAsync(topic.consumer('c', { batchSize: 0 })), 'batchSize');
  await t.throwsAsync(topic.consumer('c', { durable: 'yes' as never }), { instanceOf: TypeError });
  t.deepEqual(await topic.listConsumers(), [], 'no consumer position was written');
  // The intended options work.
  const c = await topic.consumer('c', { until: 'end', from: 'earliest' });
  const seen = [];
  for await (const e of c) seen.push(e.metadata);
  t.deepEqual(seen, [{ a: 1 }]);
});

test('process(): unknown keys and out-of-range values are BAD_CONFIG', async (t) => {
  const topic = await topicIn(t);
  const c = await topic.consumer('c', { until: 'end' });
  badConfig(t, await t.throwsAsync(c.process(() => {}, { timeout: 5 } as never)), 'timeout');
  badConfig(t, await t.throwsAsync(c.process(() => {}, { maxEvents: -2 })), 'maxEvents');
  badConfig(t, await t.throwsAsync(c.process(() => {}, { timeoutMs: NaN })), 'timeoutMs');
  badConfig(t, await t.throwsAsync(c.process(() => {}, { ordering: 'x' as never })), 'ordering');
  await t.throwsAsync(c.process(() => {}, { ordering: 1 as never }), { instanceOf: TypeError });
  t.is(await c.process(() => {}, { maxEvents: 10 }), 0);
});

test('push to a partition the topic does not have is OUT_OF_RANGE, and nothing is written', async (t) => {
  const topic = await topicIn(t, 2);
  const p = topic.producer();
  for (const partition of [2, 3, 1e9]) {
    const err = await t.throwsAsync(p.push({ a: 1 }, undefined, partition));
    t.is((err as DiasporaError).code, ErrorCode.OUT_OF_RANGE, `partition ${partition}`);
  }
  await p.flush();
  const stats = await topic.stats();
  t.deepEqual(stats.partitions.map((s) => s.events), [0, 0]);
  t.is(await p.push({ a: 1 }, undefined, 1), 0);
});

test('CONSUMER_BUSY names the topic by its name, not its folder', async (t) => {
  const topic = await topicIn(t);
  const first = await topic.consumer('c');
  const err = await t.throwsAsync(topic.consumer('c'));
  t.is((err as DiasporaError).code, ErrorCode.CONSUMER_BUSY);
  t.regex(err!.message, /topic "t"/);
  t.notRegex(err!.message, /\//, 'no path in the message');
  await first.close();
});
