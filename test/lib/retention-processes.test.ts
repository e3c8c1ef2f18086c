// Retention on a live topic with real processes: a producer, a tailing consumer and a trimmer, each its own process;
// and a slow named consumer whose acknowledgements alone let segments go.
import test, { type ExecutionContext } from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { Driver, type TopicHandle, type TopicRetention } from '../../lib/index.js';
import { tempDir, type Teardown } from '../temp-dir.js';
import { startChild, type Child } from './child.js';

const SEGMENT_BYTES = 8192;
const DATA_BYTES = 300;

function tempRoot(t: Teardown): string {
  return tempDir(t, 'diaspora-retention-mp-');
}

async function makeTopic(root: string, retention: TopicRetention): Promise<void> {
  const d = await Driver.create('files', { root_path: root, segment_bytes: SEGMENT_BYTES });
  await d.createTopic('live', { options: { num_partitions: 1, ...retention } });
  await d.close();
}

async function openLive(t: ExecutionContext, root: string): Promise<TopicHandle> {
  const d = await Driver.create('files', { root_path: root, segment_bytes: SEGMENT_BYTES });
  t.teardown(() => d.close());
  return d.openTopic('live');
}

function partitionBytes(root: string): number {
  const dir = path.join(root, 'live', 'partitions', '00000000');
  return fs.readdirSync(dir).filter((f) => /^\d{20}\./.test(f)).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
}

function kill(t: { teardown(fn: () => void): void }, ...children: Child[]): void {
  t.teardown(() => {
    for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
  });
}

/** Runs producer, tailing consumer and trimmer processes to the end; returns the consumer's ids and counts. */
async function runLive(t: ExecutionContext, root: string, count: number): Promise<{ ids: number[]; received: number; lost: number; bad: number }> {
  const stop = path.join(root, 'stop');
  const consumer = startChild('retention-consumer.js', [root, 'live', 'tail', String(count)]);
  const trimmer = startChild('retention-trimmer.js', [root, 'live', stop, String(SEGMENT_BYTES)]);
  kill(t, consumer, trimmer);
  await consumer.waitFor(/^READY/);
  const producer = startChild('retention-producer.js', [root, 'live', String(count), String(DATA_BYTES), String(SEGMENT_BYTES)]);
  kill(t, producer);
  await producer.waitFor(/^PRODUCED/);
  t.is((await producer.exited).code, 0, producer.stderr());
  fs.writeFileSync(stop, '');
  await trimmer.waitFor(/^TRIMMED/);
  t.is((await trimmer.exited).code, 0, trimmer.stderr());
  const result = await consumer.waitFor(/^RESULT/, 120_000);
  t.is((await consumer.exited).code, 0, consumer.stderr());
  const [received, lost, bad] = result.split(' ').slice(1).map(Number) as [number, number, number];
  const ids = consumer.lines.filter((l) => l.startsWith('GOT ')).map((l) => Number(l.split(' ')[1]));
  return { ids, received, lost, bad };
}

function checkAccounting(t: ExecutionContext, r: { ids: number[]; received: number; lost: number; bad: number }, count: number): void {
  t.is(r.bad, 0, 'every byte of every delivered event is right');
  t.is(r.ids.length, r.received);
  for (let i = 1; i < r.ids.length; i++) t.true(r.ids[i]! > r.ids[i - 1]!, 'ids increase: no duplicate, no reordering');
  const gaps: string[] = [];
  for (let i = 1; i < r.ids.length; i++) if (r.ids[i]! > r.ids[i - 1]! + 1) gaps.push(`${r.ids[i - 1]}->${r.ids[i]}`);
  t.is(r.received + r.lost, count, `each event was delivered or counted as lost (gaps ${gaps.join(' ')}, first ${r.ids[0]})`);
}

test('size retention on a live topic: producer, tailing consumer and trimmer in three processes', async (t) => {
  const root = tempRoot(t);
  const limit = 4 * SEGMENT_BYTES;
  await makeTopic(root, { retention_bytes: limit });
  const count = 3000;
  const r = await runLive(t, root, count);
  checkAccounting(t, r, count);
  const topic = await openLive(t, root);
  const [stats] = (await topic.stats()).partitions;
  t.true(stats!.firstId > 0, 'old segments were removed');
  t.is(stats!.endId, count);
  // At most the limit plus the segment being written (whose index is included in its bytes).
  t.true(partitionBytes(root) <= limit + 2 * SEGMENT_BYTES, `partition holds ${partitionBytes(root)} bytes`);
  t.deepEqual(await topic.verify(), []);
});

test('age retention on a live topic: once the producer stops, everything expires, the last segment too', async (t) => {
  const root = tempRoot(t);
  await makeTopic(root, { retention_ms: 1 });
  const count = 2000;
  const r = await runLive(t, root, count);
  checkAccounting(t, r, count);
  const topic = await openLive(t, root);
  // The last event is at least 1 ms old by now, or will be after a few more trims: bounded, no clock assertion.
  for (let i = 0; i < 100 && (await topic.stats()).partitions[0]!.firstId < count; i++) {
    await topic.trim();
    await new Promise((res) => setTimeout(res, 2));
  }
  const [stats] = (await topic.stats()).partitions;
  t.is(stats!.firstId, count, 'every event expired: the partition is empty, its ids not reused');
  t.is(stats!.endId, count);
  t.deepEqual(await topic.verify(), []);
  const p = topic.producer();
  await p.push({ seq: count });
  await p.flush();
  t.is((await topic.stats()).partitions[0]!.endId, count + 1);
});

test('keep until acknowledged: a slow named consumer holds segments; its acknowledgements release them, nothing lost', async (t) => {
  const root = tempRoot(t);
  await makeTopic(root, { retention_acked_by: ['slow'], retention_bytes: 1 });
  const count = 600;
  const producer = startChild('retention-producer.js', [root, 'live', String(count), String(DATA_BYTES), String(SEGMENT_BYTES)]);
  kill(t, producer);
  t.is((await producer.exited).code, 0, producer.stderr());
  const topic = await openLive(t, root);
  await topic.trim();
  t.is((await topic.stats()).partitions[0]!.firstId, 0, 'slow acknowledged nothing: everything is kept');
  // The slow consumer, in its own process, reads and acknowledges the first 250 events, then stops.
  const slow = startChild('retention-consumer.js', [root, 'live', 'slow', '250']);
  kill(t, slow);
  await slow.waitFor(/^RESULT/);
  t.is((await slow.exited).code, 0, slow.stderr());
  await topic.trim();
  const first = (await topic.stats()).partitions[0]!.firstId;
  t.true(first > 0 && first <= 250, `first id ${first}: only acknowledged segments went`);
  // It comes back and finds every event it did not acknowledge.
  const again = startChild('retention-consumer.js', [root, 'live', 'slow', String(count)]);
  kill(t, again);
  const res = await again.waitFor(/^RESULT/);
  t.is((await again.exited).code, 0, again.stderr());
  const ids = again.lines.filter((l) => l.startsWith('GOT ')).map((l) => Number(l.split(' ')[1]));
  t.true(ids[0]! <= 250 && ids[0]! >= 249, `resumes after its acknowledgement (first ${ids[0]})`);
  t.is(res, `RESULT ${count - ids[0]!} 0 0`);
});
