// Retention and consumers in the less common paths: a trim made through another handle (as another process would),
// a standby consumer whose position was trimmed, process() on worker threads, and lag() with events read ahead.
import test, { type ExecutionContext } from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../temp-dir.js';
import { Driver, DiasporaError, ErrorCode, type TopicHandle } from '../../lib/index.js';

const isCode = (code: ErrorCode) => (e: unknown): boolean => e instanceof DiasporaError && e.code === code;

async function setup(t: ExecutionContext): Promise<{ d: Driver; root: string; topic: TopicHandle }> {
  const root = tempDir(t, 'diaspora-retention-');
  const d = await Driver.create('files', { root_path: root, segment_bytes: 4096 });
  t.teardown(() => d.close());
  await d.createTopic('t', { options: { num_partitions: 1 } });
  const topic = await d.openTopic('t');
  // 20 events of 1000 data bytes: 4 per segment; a trim to 1 byte keeps the last segment (ids 16..19).
  const p = topic.producer();
  for (let i = 0; i < 20; i++) await p.push({ i }, Buffer.alloc(1000, i));
  await p.flush();
  await p.close();
  const warnings: string[] = [];
  const onWarning = (w: Error): void => void warnings.push(w.message);
  process.on('warning', onWarning);
  t.teardown(() => void process.off('warning', onWarning));
  return { d, root, topic };
}

test("from: 'earliest' after a trim made through another handle starts at the new first id", async (t) => {
  const { root, topic } = await setup(t);
  // The partition is opened (and its first id known) by this handle before the other one trims.
  const peek = await topic.consumer('peek', { durable: false });
  t.is((await peek.pull())!.id, 0);
  await peek.close();
  const other = await Driver.create('files', { root_path: root, segment_bytes: 4096 });
  t.teardown(() => other.close());
  const ot = await other.openTopic('t');
  await ot.setRetention({ retention_bytes: 1 });
  t.is((await ot.trim())[0]!.firstId, 16);
  const c = await topic.consumer('fresh', { from: 'earliest' });
  t.is((await c.pull())!.id, 16);
  await c.close();
});

test('a standby consumer whose position was trimmed reports it at every pull and keeps the partition from skipping', async (t) => {
  const { topic } = await setup(t);
  const c0 = await topic.consumer('c');
  await (await c0.pull())!.acknowledge();
  await c0.close();
  await topic.setRetention({ retention_bytes: 1 });
  await topic.trim();
  const s = await topic.consumer('c', { standby: true });
  for (let k = 0; k < 3; k++) {
    const err = await t.throwsAsync(s.pull());
    t.true(isCode(ErrorCode.OUT_OF_RANGE)(err), String(err));
    t.is((err as DiasporaError).details.firstId, 16);
  }
  t.is((await s.lag())[0]!.lostEvents, 15);
  await s.close();
  await topic.resetConsumer('c', 'earliest');
  const again = await topic.consumer('c', { standby: true });
  t.is((await again.pull())!.id, 16);
  await again.close();
});

async function processorModule(t: ExecutionContext): Promise<string> {
  const file = path.join(tempDir(t, 'diaspora-proc-'), 'ack.mjs');
  fs.writeFileSync(file, 'export default function (e) { e.acknowledge(); }\n');
  return file;
}

test("threaded process() applies onTrimmed: 'earliest' skips (counted), 'error' fails each run without moving", async (t) => {
  const { d, topic } = await setup(t);
  const proc = await processorModule(t);
  const pool = await d.makeThreadPool(1);
  const skip = await topic.consumer('skip', { onTrimmed: 'earliest' });
  const strict = await topic.consumer('strict');
  await (await skip.pull())!.acknowledge();
  await (await strict.pull())!.acknowledge();
  await topic.setRetention({ retention_bytes: 1 });
  await topic.trim();
  t.is(await skip.process({ module: proc }, { threadPool: pool, maxEvents: 4 }), 4);
  const [lag] = await skip.lag();
  t.is(lag!.committed, 19);
  t.is(lag!.lostEvents, 15);
  for (let k = 0; k < 2; k++) {
    const err = await t.throwsAsync(strict.process({ module: proc }, { threadPool: pool, maxEvents: 4 }));
    t.true(isCode(ErrorCode.OUT_OF_RANGE)(err), String(err));
    t.is((err as DiasporaError).details.position, 1);
    t.is((err as DiasporaError).details.firstId, 16);
  }
  t.is((await strict.lag())[0]!.position, 1);
  await skip.close();
  await strict.close();
});

test('lag().lostEvents does not count events already read ahead (they are still delivered)', async (t) => {
  const { topic } = await setup(t);
  const c = await topic.consumer('c', { onTrimmed: 'earliest' });
  t.is((await c.pull())!.id, 0);
  await topic.setRetention({ retention_bytes: 1 });
  await topic.trim();
  // The first pull read ahead the rest of the first segment (ids 1..3; a read stops at a segment's end): those are
  // delivered, and only ids 4..15, never read, are lost.
  const [lag] = await c.lag();
  t.is(lag!.position, 1);
  t.is(lag!.lostEvents, 12);
  const ids: number[] = [];
  while (ids.length < 7) ids.push((await c.pull())!.id);
  t.deepEqual(ids, [1, 2, 3, 16, 17, 18, 19]);
  t.is((await c.lag())[0]!.lostEvents, 12);
  await c.close();
});
