// Retention through the API (files driver, one process): options, changes, trims, consumers below the first id,
// 'latest' positions persisted, consumer deletion. The multi-process cases are in retention-processes.test.ts.
import test, { type ExecutionContext } from 'ava';
import { tempDir } from '../temp-dir.js';
import { Driver, DiasporaError, ErrorCode, type TopicHandle } from '../../lib/index.js';

const SEGMENT_BYTES = 4096;

async function setup(t: ExecutionContext, options: Record<string, unknown> = {}): Promise<{ d: Driver; root: string }> {
  const root = tempDir(t, 'diaspora-retention-');
  const d = await Driver.create('files', { root_path: root, segment_bytes: SEGMENT_BYTES });
  t.teardown(() => d.close());
  await d.createTopic('t', { options: { num_partitions: 2, ...options } as never });
  return { d, root };
}

/** `n` events of 1000 data bytes (4 per segment) into `partition`. */
async function fill(topic: TopicHandle, n: number, partition = 0): Promise<void> {
  const p = topic.producer();
  for (let i = 0; i < n; i++) await p.push({ i }, Buffer.alloc(1000, i % 256), partition);
  await p.flush();
  await p.close();
}

const isCode = (code: ErrorCode) => (e: unknown): boolean => e instanceof DiasporaError && e.code === code;

test('retention options: stored at creation, changed later, checked strictly', async (t) => {
  const { d } = await setup(t, { retention_ms: 60_000, retention_acked_by: ['a'] });
  const topic = await d.openTopic('t');
  t.deepEqual(await topic.retention(), { retention_ms: 60_000, retention_acked_by: ['a'] });
  await topic.setRetention({ retention_bytes: 10_000 });
  t.deepEqual(await topic.retention(), { retention_bytes: 10_000 });
  // Another handle (another process would be the same) sees the change.
  t.deepEqual(await (await d.openTopic('t')).retention(), { retention_bytes: 10_000 });
  await topic.setRetention({});
  t.deepEqual(await topic.retention(), {});
  // Bad values of any type are BAD_CONFIG (topic options are configuration); only a non-object retention is a TypeError.
  const badValues = [
    { retention_ms: 0 }, { retention_bytes: 1.5 }, { retention_acked_by: [] }, { retention_acked_by: 'x' }, { retention_age: 5 },
    { retention_ms: '5' }, { retention_bytes: null }, { retention_acked_by: [3] }, { retention_acked_by: 5 },
  ];
  for (const bad of badValues) {
    t.true(isCode(ErrorCode.BAD_CONFIG)(await t.throwsAsync(topic.setRetention(bad as never))), JSON.stringify(bad));
    t.true(isCode(ErrorCode.BAD_CONFIG)(await t.throwsAsync(d.createTopic('u', { options: bad as never }))), JSON.stringify(bad));
  }
  await t.throwsAsync(topic.setRetention(null as never), { instanceOf: TypeError });
  t.false(await d.topicExists('u'));
  await t.throwsAsync(topic.trim({ dry: true } as never), { instanceOf: DiasporaError });
});

test('the memory driver refuses retention (UNSUPPORTED); reference-format topics have none', async (t) => {
  const m = await Driver.create('memory');
  t.teardown(() => m.close());
  t.true(isCode(ErrorCode.UNSUPPORTED)(await t.throwsAsync(m.createTopic('x', { options: { retention_ms: 5 } }))));
  await m.createTopic('x');
  t.true(isCode(ErrorCode.UNSUPPORTED)(await t.throwsAsync((await m.openTopic('x')).trim())));
  const { d } = await setup(t, { retention_bytes: 1 });
  await d.convertTopic('t', 'ref', 'reference');
  const ref = await d.openTopic('ref');
  t.deepEqual(await ref.retention(), {});
  t.true(isCode(ErrorCode.UNSUPPORTED)(await t.throwsAsync(ref.trim())));
  t.true(isCode(ErrorCode.UNSUPPORTED)(await t.throwsAsync(ref.setRetention({ retention_ms: 5 }))));
});

test('trim and dry run; producers enforce retention on their first append; stats show the first id', async (t) => {
  const { d, root } = await setup(t);
  const topic = await d.openTopic('t');
  await fill(topic, 40);
  await topic.setRetention({ retention_bytes: 2 * SEGMENT_BYTES });
  const dry = await topic.trim({ dryRun: true });
  t.true(dry[0]!.removedEvents > 0);
  t.is((await topic.stats()).partitions[0]!.firstId, 0, 'a dry run removes nothing');
  // A producer of another driver instance (as another process would) trims on its first append.
  const d2 = await Driver.create('files', { root_path: root, segment_bytes: SEGMENT_BYTES });
  t.teardown(() => d2.close());
  await fill(await d2.openTopic('t'), 1);
  const [p0, p1] = (await topic.stats()).partitions;
  t.is(p0!.firstId, dry[0]!.firstId);
  t.is(p0!.endId, 41);
  t.is(p1!.firstId, 0);
  const again = await topic.trim();
  t.is(again[0]!.removedEvents, 0);
  t.is(again[0]!.firstId, p0!.firstId);
});

test('a consumer below the first id: OUT_OF_RANGE by default, or skips forward with onTrimmed earliest; lag counts the loss', async (t) => {
  const { d } = await setup(t);
  const topic = await d.openTopic('t');
  await fill(topic, 20);
  const c = await topic.consumer('slow', { targets: [0] });
  const e = await c.pull();
  await e!.acknowledge();
  await c.close();
  await topic.setRetention({ retention_bytes: 1 });
  const [r] = await topic.trim();
  t.is(r!.firstId, 16);
  const err = await t.throwsAsync(topic.consumer('slow', { targets: [0] }));
  t.true(isCode(ErrorCode.OUT_OF_RANGE)(err));
  t.is((err as DiasporaError).details.lostEvents, 15);
  t.is((err as DiasporaError).details.firstId, 16);
  const warnings: string[] = [];
  const onWarning = (w: Error): void => void warnings.push(w.message);
  process.on('warning', onWarning);
  t.teardown(() => void process.off('warning', onWarning));
  const skip = await topic.consumer('slow', { targets: [0], onTrimmed: 'earliest' });
  const first = await skip.pull();
  t.is(first!.id, 16);
  const [lag] = await skip.lag();
  t.is(lag!.lostEvents, 15);
  t.is(lag!.pendingEvents, 4);
  await skip.close();
  await new Promise((res) => setImmediate(res));
  t.true(warnings.some((w) => /skipped events 1\.\.15/.test(w)), warnings.join('; '));
  t.true(isCode(ErrorCode.BAD_CONFIG)(await t.throwsAsync(topic.consumer('x', { onTrimmed: 'later' as never }))));
  await t.throwsAsync(topic.consumer('x', { onTrimmed: 5 as never }), { instanceOf: TypeError });
});

test('a running consumer whose position is trimmed away: OUT_OF_RANGE each time (no silent skip) until reset', async (t) => {
  const { d } = await setup(t);
  const topic = await d.openTopic('t');
  await fill(topic, 20);
  const c = await topic.consumer('r', { targets: [0], batchSize: 1 });
  t.is((await c.pull())!.id, 0);
  await topic.setRetention({ retention_bytes: 1 });
  await topic.trim();
  // Records read ahead before the trim may still come; then the removed position is reported, and again.
  let err: unknown;
  for (let i = 0; i < 20 && err === undefined; i++) {
    try {
      await c.pull();
    } catch (e) {
      err = e;
    }
  }
  t.true(isCode(ErrorCode.OUT_OF_RANGE)(err));
  t.true(isCode(ErrorCode.OUT_OF_RANGE)(await t.throwsAsync(c.pull())));
  t.true((await c.lag())[0]!.lostEvents > 0);
  await c.close();
  await topic.resetConsumer('r', 'earliest');
  const again = await topic.consumer('r', { targets: [0] });
  t.is((await again.pull())!.id, 16);
  await again.close();
});

test("from: 'latest' stores the position of every partition at once, even those that get nothing new", async (t) => {
  const { d } = await setup(t);
  const topic = await d.openTopic('t');
  await fill(topic, 5, 0);
  await fill(topic, 5, 1);
  const latest = await topic.consumer('late', { from: 'latest' });
  await latest.close();
  t.deepEqual((await topic.listConsumers()).find((c) => c.name === 'late')?.partitions, [
    { partition: 0, lastAcknowledged: 4 },
    { partition: 1, lastAcknowledged: 4 },
  ]);
  await fill(topic, 1, 0);
  const plain = await topic.consumer('late', { until: 'end' });
  const ids: Array<[number, number]> = [];
  for await (const e of plain) ids.push([e.partition, e.id]);
  await plain.close();
  t.deepEqual(ids, [[0, 5]], 'no old event replayed');
});

test('deleteConsumer: refused while the consumer is live, then its positions are gone and it no longer holds retention', async (t) => {
  const { d } = await setup(t, { retention_acked_by: '*' });
  const topic = await d.openTopic('t');
  await fill(topic, 20);
  const c = await topic.consumer('gone', { targets: [0] });
  t.true(isCode(ErrorCode.CONSUMER_BUSY)(await t.throwsAsync(topic.deleteConsumer('gone'))));
  await (await c.pull())!.acknowledge();
  await c.close();
  await topic.trim();
  t.is((await topic.stats()).partitions[0]!.firstId, 0, "'gone' acknowledged only event 0");
  t.true(await topic.deleteConsumer('gone'));
  t.false(await topic.deleteConsumer('gone'));
  t.deepEqual(await topic.listConsumers(), []);
  // No consumer known: an acknowledgement-only policy waiting for all of them removes nothing (nobody acknowledged).
  t.is((await topic.trim())[0]!.removedEvents, 0);
  t.true(isCode(ErrorCode.BAD_NAME)(await t.throwsAsync(topic.deleteConsumer(''))));
});
