// Consumer.process on worker threads: order per partition, acknowledgements over completed prefixes only,
// back-pressure, processor errors and stops, selectors and allocators in workers, refusals, and threads that end.
// Processors append to the file in DIASPORA_THREAD_LOG, which worker threads inherit from process.env when they
// start: the tests of this file therefore run one at a time.
import test, { type ExecutionContext } from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Driver, DiasporaError, ErrorCode, makeThreadPool, type TopicHandle } from '../../lib/index.js';
import { tempDir } from '../temp-dir.js';
import { collectWarnings, listenerLeakWarnings } from './warnings.js';

const work = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures-bin', 'thread-work.js');
const ref = (exportName?: string) => (exportName ? { module: work, export: exportName } : { module: work });

interface Logged {
  thread: number;
  partition: number;
  id: number;
  size: number;
  hex: string;
  backing: number;
}

function readLog(file: string): Logged[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [, thread, partition, id, size, hex, backing] = l.split(' ');
      return { thread: +thread, partition: +partition, id: +id, size: +size, hex, backing: +backing };
    });
}

/** A files topic with `perPartition` events of 8 bytes [i, 1..7] in each partition; `meta(p, i, root)` adds metadata. */
async function setup(
  t: ExecutionContext,
  partitions: number,
  perPartition: number,
  meta: (p: number, i: number, root: string) => object = () => ({}),
): Promise<{ root: string; log: string; driver: Driver; topic: TopicHandle }> {
  const root = tempDir(t, 'diaspora-threads-');
  const log = path.join(root, 'processed.log');
  process.env.DIASPORA_THREAD_LOG = log;
  const driver = await Driver.create('files', { root_path: root });
  t.teardown(() => driver.close());
  await driver.createTopic('t', { options: { num_partitions: partitions } });
  const topic = await driver.openTopic('t');
  const producer = topic.producer();
  for (let i = 0; i < perPartition; i++) {
    for (let p = 0; p < partitions; p++) producer.push({ i, ...meta(p, i, root) }, Buffer.from([i & 255, 1, 2, 3, 4, 5, 6, 7]), p);
  }
  await producer.flush();
  await producer.close();
  return { root, log, driver, topic };
}

async function until(cond: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await cond())) await new Promise((r) => setTimeout(r, 5));
}

const committedOf = async (topic: TopicHandle, name: string): Promise<Array<number | null>> => {
  const c = (await topic.listConsumers()).find((x) => x.name === name);
  const out: Array<number | null> = Array.from({ length: topic.partitions.length }, () => null);
  for (const p of c?.partitions ?? []) out[p.partition] = p.lastAcknowledged;
  return out;
};

test.serial('a threaded process() tailing a partition leaves no listener behind per wait (the consumer waits once per event here)', async (t) => {
  const { topic } = await setup(t, 1, 0);
  const consumer = await topic.consumer('tail');
  const running = consumer.process(ref(), { threadPool: makeThreadPool(1) });
  const producer = topic.producer({ batchSize: 1 });
  const wakes = (consumer as unknown as { delivery: { wakes: { listening: number } } }).delivery.wakes;
  for (let i = 0; i < 60; i++) {
    await producer.push({ i }, Buffer.from([i, 1, 2, 3, 4, 5, 6, 7]));
    await until(async () => (await committedOf(topic, 'tail'))[0] === i);
    t.true(wakes.listening <= 1, `${wakes.listening} listeners after ${i + 1} waits`);
  }
  await producer.close();
  await consumer.close();
  t.is(await running, 60);
  t.is(wakes.listening, 0);
});

test.serial('a threaded process() waiting on 24 partitions causes no MaxListenersExceededWarning', async (t) => {
  const warnings = collectWarnings(t);
  const { topic } = await setup(t, 24, 0);
  const consumer = await topic.consumer('wide');
  const running = consumer.process(ref(), { threadPool: makeThreadPool(1) });
  const producer = topic.producer({ batchSize: 1 });
  for (let i = 0; i < 3; i++) {
    await producer.push({ i }, Buffer.from([i, 1, 2, 3, 4, 5, 6, 7]), 23);
    await until(async () => (await committedOf(topic, 'wide'))[23] === i);
  }
  await producer.close();
  await consumer.close();
  t.is(await running, 3);
  t.deepEqual(await listenerLeakWarnings(warnings), []);
});

test.serial('2 threads: every event once, each partition in id order, on both worker threads; then the threads end', async (t) => {
  const { log, topic } = await setup(t, 3, 200);
  const pool = makeThreadPool(2);
  t.is(pool.liveThreads, 0, 'threads start on first use');
  const consumer = await topic.consumer('c', { until: 'end' });
  t.is(await consumer.process(ref(), { threadPool: pool }), 600);
  const seen = readLog(log);
  t.is(seen.length, 600);
  for (let p = 0; p < 3; p++) {
    t.deepEqual(
      seen.filter((e) => e.partition === p).map((e) => e.id),
      Array.from({ length: 200 }, (_, i) => i),
      `partition ${p} in id order, each event once`,
    );
  }
  const threads = new Set(seen.map((e) => e.thread));
  t.is(threads.size, 2, 'both workers ran events');
  t.false(threads.has(0), 'not on the main thread');
  t.is(pool.liveThreads, 2);
  await consumer.close();
  t.is(pool.liveThreads, 0, 'the last consumer closing terminates the workers');
  t.deepEqual(await committedOf(topic, 'c'), [199, 199, 199]);
});

const releaseFile = (root: string): string => path.join(root, 'release');

test.serial('ordered: a stuck event holds back its own partition only, and its acknowledgements', async (t) => {
  const { root, log, topic } = await setup(t, 2, 40, (p, i, r) => (p === 0 && i === 5 ? { waitFor: releaseFile(r) } : {}));
  const consumer = await topic.consumer('c', { until: 'end' });
  const running = consumer.process(ref(), { threadPool: makeThreadPool(2) });
  await until(() => readLog(log).filter((e) => e.partition === 1).length === 40 && readLog(log).length >= 45);
  await new Promise((r) => setTimeout(r, 50)); // give a wrong event time to run
  const p0 = readLog(log).filter((e) => e.partition === 0).map((e) => e.id);
  t.deepEqual(p0, [0, 1, 2, 3, 4], 'partition 0 waits at its stuck event, in order; partition 1 went on');
  await until(async () => (await committedOf(topic, 'c'))[1] === 39);
  await until(async () => (await committedOf(topic, 'c'))[0] === 4);
  await new Promise((r) => setTimeout(r, 50)); // give a wrong acknowledgement time to show up
  t.is((await committedOf(topic, 'c'))[0], 4, 'partition 0 acknowledged up to the stuck event only');
  fs.writeFileSync(releaseFile(root), '');
  t.is(await running, 80);
  t.deepEqual(await committedOf(topic, 'c'), [39, 39]);
  await consumer.close();
});

test.serial('unordered: events of one partition run concurrently, and the position never passes an unfinished event', async (t) => {
  const { root, log, topic } = await setup(t, 1, 40, (_p, i, r) => (i === 5 ? { waitFor: releaseFile(r) } : {}));
  const consumer = await topic.consumer('c', { until: 'end' });
  const running = consumer.process(ref(), { threadPool: makeThreadPool(2), ordering: 'unordered' });
  // The first job (0..19) stops at event 5; later jobs of the same partition run on the other worker meanwhile,
  // and their processors acknowledge their events.
  await until(() => {
    const ids = new Set(readLog(log).map((e) => e.id));
    return [0, 1, 2, 3, 4, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29].every((id) => ids.has(id));
  });
  t.false(new Set(readLog(log).map((e) => e.id)).has(5));
  await until(async () => (await committedOf(topic, 'c'))[0] === 4);
  await new Promise((r) => setTimeout(r, 50)); // give a wrong acknowledgement time to show up
  t.is((await committedOf(topic, 'c'))[0], 4, 'acknowledgements of 20..39 wait for 5..19');
  fs.writeFileSync(releaseFile(root), '');
  t.is(await running, 40);
  t.deepEqual(await committedOf(topic, 'c'), [39]);
  await consumer.close();
});

test.serial('back-pressure: a slow processor holds at most 2 jobs of 64 events per worker in flight', async (t) => {
  const { root, topic } = await setup(t, 1, 5000, (_p, _i, r) => ({ waitFor: releaseFile(r) }));
  const consumer = await topic.consumer('c', { until: 'end' });
  const running = consumer.process(ref(), { threadPool: makeThreadPool(2), ordering: 'unordered' });
  await until(async () => (await consumer.lag())[0].position > 0);
  await new Promise((r) => setTimeout(r, 100)); // let the loop hand out all it would
  const [lag] = await consumer.lag();
  t.true(lag.position <= 2 * 2 * 64, `handed out ${lag.position} events`);
  t.is(lag.committed, null);
  fs.writeFileSync(releaseFile(root), '');
  t.is(await running, 5000);
  t.is((await consumer.lag())[0].committed, 4999);
  await consumer.close();
});

test.serial('a processor error names the event, stops the run after running jobs finish, keeps earlier acknowledgements', async (t) => {
  const { topic } = await setup(t, 2, 50, (p, i) => (p === 1 && i === 7 ? { fail: true } : {}));
  const consumer = await topic.consumer('c', { until: 'end' });
  const err = await t.throwsAsync(consumer.process(ref(), { threadPool: makeThreadPool(2) }), { instanceOf: DiasporaError });
  t.is(err?.code, ErrorCode.GENERIC);
  t.is(err?.details.partition, 1);
  t.is(err?.details.id, 7);
  t.regex(err!.message, /partition 1 event 7: boom at 1\/7/);
  t.regex(String((err?.details.cause as Error).stack), /thread-work/, 'the worker-side stack is kept');
  const committed = await committedOf(topic, 'c');
  t.is(committed[1], 6, 'partition 1 acknowledged up to the failed event');
  // Like an inline run, the failed event is consumed: the next run goes on after it (a restart would redo it).
  const again = await consumer.process(ref(), { threadPool: makeThreadPool(1), maxEvents: 1000 });
  t.true(again > 0);
  t.deepEqual(await committedOf(topic, 'c'), [49, 49]);
  await consumer.close();
  const restarted = await topic.consumer('c', { until: 'end' });
  t.is((await restarted.lag())[1].committed, 49);
  await restarted.close();
});

test.serial('StopEventProcessor in a worker ends the run; the next run starts after the stopping event', async (t) => {
  const { log, topic } = await setup(t, 1, 30, (_p, i) => (i === 10 ? { stop: true } : {}));
  const consumer = await topic.consumer('c', { until: 'end' });
  const pool = makeThreadPool(2);
  t.is(await consumer.process(ref(), { threadPool: pool }), 11);
  t.deepEqual(readLog(log).map((e) => e.id), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  t.is(await consumer.process(ref(), { threadPool: pool }), 19);
  t.deepEqual(readLog(log).slice(10).map((e) => e.id), Array.from({ length: 19 }, (_, i) => 11 + i));
  t.deepEqual(await committedOf(topic, 'c'), [29]);
  await consumer.close();
});

test.serial('selectors and allocators run in the workers: zero-copy slices of the mapping, or gathered copies', async (t) => {
  const { log, topic } = await setup(t, 2, 20);
  const zero = await topic.consumer('zero', { until: 'end', dataSelector: ref('middle') });
  t.is(await zero.process(ref('recordOnly'), { threadPool: makeThreadPool(2) }), 40);
  const z = readLog(log);
  t.is(z.length, 40);
  for (const e of z) {
    t.is(e.size, 4);
    t.is(e.hex, '02030405');
    t.true(e.backing > 65536, 'a slice of the mapped segment file, not a copy');
  }
  fs.rmSync(log);
  const gathered = await topic.consumer('gathered', { until: 'end', dataSelector: ref('pieces'), dataAllocator: ref('bufferAllocator') });
  t.is(await gathered.process(ref('recordOnly'), { threadPool: makeThreadPool(2) }), 40);
  for (const e of readLog(log)) {
    t.is(e.hex, `${(e.id & 255).toString(16).padStart(2, '0')}010405`);
    t.true(e.backing <= 8192, 'memory from the allocator (Buffer.allocUnsafe, pooled), not the mapping');
    t.not(e.thread, 0);
  }
  // The same module references work inline (loaded on this thread): same bytes.
  fs.rmSync(log);
  const inline = await topic.consumer('inline', { until: 'end', dataSelector: ref('pieces'), dataAllocator: ref('bufferAllocator') });
  t.is(await inline.process(ref('recordOnly')), 40);
  for (const e of readLog(log)) {
    t.is(e.hex, `${(e.id & 255).toString(16).padStart(2, '0')}010405`);
    t.is(e.thread, 0);
  }
  const pulled = await inline.pull();
  t.is(pulled, null, 'until end reached');
  await Promise.all([zero.close(), gathered.close(), inline.close()]);
});

test.serial('closures with a threaded pool, non-files drivers and unloadable modules are BAD_CONFIG', async (t) => {
  const { topic } = await setup(t, 1, 5);
  const pool = makeThreadPool(2);
  const c = await topic.consumer('c', { until: 'end' });
  const badConfig = { instanceOf: DiasporaError, code: ErrorCode.BAD_CONFIG };
  await t.throwsAsync(c.process(() => {}, { threadPool: pool }), { ...badConfig, message: /processor/ });
  await t.throwsAsync(c.process(ref(), { threadPool: pool, concurrency: 2 }), badConfig);
  await t.throwsAsync(c.process(ref('nope'), { threadPool: pool }), { ...badConfig, message: /no function export "nope"/ });
  await t.throwsAsync(c.process(ref('notAFunction'), { threadPool: pool }), badConfig);
  await t.throwsAsync(c.process({ module: path.join(path.dirname(work), 'missing.js') }, { threadPool: pool }), badConfig);
  await t.throwsAsync(c.process({ module: 42 } as never, { threadPool: pool }), { instanceOf: TypeError });
  await t.throwsAsync(c.process(ref(), { threadPool: pool, ordering: 'random' as never }), badConfig);
  await t.throwsAsync(c.process(ref(), { threadPool: pool, ordering: true as never }), { instanceOf: TypeError });
  await c.close();
  // A closure selector with a threaded pool: refused at creation when the pool is the consumer's own.
  await t.throwsAsync(topic.consumer('d', { dataSelector: (_m, d) => d, threadPool: pool }), { ...badConfig, message: /dataSelector/ });
  const d = await topic.consumer('d', { dataSelector: (_m, desc) => desc, until: 'end' });
  await t.throwsAsync(d.process(ref(), { threadPool: pool }), { ...badConfig, message: /dataSelector/ });
  t.is(await d.process(() => {}), 5, 'the closure still works inline');
  await d.close();
  // The memory driver's events live in this thread's heap: no threaded pool.
  const mem = await Driver.create('memory');
  await mem.createTopic('m');
  const mt = await mem.openTopic('m');
  const mc = await mt.consumer('c');
  await t.throwsAsync(mc.process(ref(), { threadPool: pool }), { ...badConfig, message: /files driver/ });
  await mem.close();
  t.is(pool.liveThreads, 0, 'nothing was started for refused work');
});

test.serial('close() during a threaded run drains running jobs, keeps their acknowledgements and ends the threads', async (t) => {
  const { log, topic } = await setup(t, 2, 200, () => ({ delay: 2 }));
  const pool = makeThreadPool(2);
  const consumer = await topic.consumer('c');
  const running = consumer.process(ref(), { threadPool: pool });
  await until(() => readLog(log).length >= 20);
  await consumer.close();
  const count = await running;
  t.is(pool.liveThreads, 0);
  const seen = readLog(log);
  t.is(count, seen.length, 'process() resolves with the events processed');
  t.true(count < 400, 'stopped before the end');
  const committed = await committedOf(topic, 'c');
  for (const p of [0, 1]) {
    const ids = seen.filter((e) => e.partition === p).map((e) => e.id);
    t.deepEqual(ids, Array.from({ length: ids.length }, (_, i) => i), `partition ${p}: a prefix, in order`);
    t.is(committed[p], ids.length - 1, `partition ${p}: every completed event acknowledged, nothing more`);
  }
  const next = await topic.consumer('c', { until: 'end' });
  t.is(await next.process(ref(), { threadPool: pool }), 400 - count, 'a new consumer goes on after the acknowledgements');
  await next.close();
});

test.serial('a worker thread that dies fails the run with a typed error; nothing past it is acknowledged; threads restart', async (t) => {
  const { topic } = await setup(t, 1, 10);
  const pool = makeThreadPool(1);
  const consumer = await topic.consumer('c', { until: 'end' });
  await t.throwsAsync(consumer.process(ref('exitThreadAt3'), { threadPool: pool }), {
    instanceOf: DiasporaError,
    code: ErrorCode.GENERIC,
    message: /worker thread exited/,
  });
  // Events 0..2 completed; how many of their acknowledgements reached the main thread (they are batched) varies.
  const [committed] = await committedOf(topic, 'c');
  t.true(committed === null || committed <= 2, `acknowledged ${committed}: never the event the thread died in`);
  // The rest of the lost job is handed out again: a new thread starts for the next run.
  t.is(await consumer.process(ref(), { threadPool: pool }), 9 - (committed ?? -1));
  t.deepEqual(await committedOf(topic, 'c'), [9]);
  await consumer.close();
});

test.serial('a live threaded run picks up new commits and ends after timeoutMs without events', async (t) => {
  const { log, topic } = await setup(t, 2, 10);
  const consumer = await topic.consumer('c');
  const running = consumer.process(ref(), { threadPool: makeThreadPool(2), timeoutMs: 2000 });
  await until(() => readLog(log).length === 20);
  const producer = topic.producer();
  for (let i = 10; i < 15; i++) for (const p of [0, 1]) producer.push({ i }, Buffer.from([i, 1, 2, 3, 4, 5, 6, 7]), p);
  await producer.flush();
  t.is(await running, 30, 'the 10 events committed during the run were processed too');
  t.deepEqual(await committedOf(topic, 'c'), [14, 14]);
  await consumer.close();
});

test.serial('a threaded process() with a timeoutMs beyond a timer (2^31 ms) waits without overflowing a timer', async (t) => {
  const { topic } = await setup(t, 1, 0);
  let overflows = 0;
  const onWarning = (w: Error): void => void (w.name === 'TimeoutOverflowWarning' && overflows++);
  process.on('warning', onWarning);
  t.teardown(() => void process.off('warning', onWarning));
  const consumer = await topic.consumer('far');
  const running = consumer.process(ref(), { threadPool: makeThreadPool(1), timeoutMs: 2 ** 31 });
  await new Promise((r) => setTimeout(r, 100));
  await topic.producer().push({ stop: true }, Buffer.alloc(8));
  t.is(await running, 1);
  await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
  t.is(overflows, 0);
  await consumer.close();
});
