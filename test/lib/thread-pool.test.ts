// The reference's PosixThreadPool tests (API.md 76-86), in Node terms: n "threads" = n concurrent jobs.
import test from 'ava';
import { ThreadPool, makeThreadPool } from '../../lib/thread-pool.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('0 threads runs jobs inline, before pushWork returns', async (t) => {
  const pool = new ThreadPool(0);
  t.is(pool.threadCount, 0);
  t.is(pool.size, 0);
  let counter = 0;
  const p = pool.pushWork(() => ++counter);
  t.is(counter, 1);
  t.is(pool.size, 0);
  t.is(await p, 1);
});

test('thread counts and bad counts', (t) => {
  t.is(makeThreadPool(1).threadCount, 1);
  t.is(makeThreadPool(4).size, 0);
  t.throws(() => new ThreadPool(-1), { instanceOf: TypeError });
  t.throws(() => new ThreadPool(1.5), { instanceOf: TypeError });
  t.throws(() => new ThreadPool(1).pushWork(5 as never), { instanceOf: TypeError });
});

test('many jobs all run; results and sums come back', async (t) => {
  const pool = new ThreadPool(4);
  let counter = 0;
  await Promise.all(Array.from({ length: 100 }, () => pool.pushWork(() => void counter++)));
  t.is(counter, 100);
  const two = new ThreadPool(2);
  const parts = await Promise.all([1, 2, 3, 4, 5].map((v) => two.pushWork(async () => v)));
  t.is(parts.reduce((a, b) => a + b, 0), 15);
  const big = new ThreadPool(8);
  let n = 0;
  await Promise.all(Array.from({ length: 10000 }, () => big.pushWork(() => void n++)));
  t.is(n, 10000);
});

test('at most n jobs run at once; size counts queued plus running', async (t) => {
  const pool = new ThreadPool(1);
  let release!: () => void;
  const blocker = pool.pushWork(() => new Promise<void>((r) => (release = r)));
  const others = Array.from({ length: 5 }, () => pool.pushWork(async () => {}));
  await sleep(20);
  t.is(pool.size, 6);
  release();
  await blocker;
  await Promise.all(others);
  t.is(pool.size, 0);
});

test('higher priority jobs start first', async (t) => {
  const pool = new ThreadPool(1);
  const order: number[] = [];
  let release!: () => void;
  const blocker = pool.pushWork(() => new Promise<void>((r) => (release = r)));
  const jobs = [1, 100, 1000, 5].map((p) => pool.pushWork(() => void order.push(p), p));
  release();
  await blocker;
  await Promise.all(jobs);
  t.deepEqual(order, [1000, 100, 5, 1]);
});

test('errors of a job reject its promise and do not stop the pool', async (t) => {
  const pool = new ThreadPool(2);
  await t.throwsAsync(pool.pushWork(() => {
    throw new Error('job failed');
  }), { message: 'job failed' });
  t.is(await pool.pushWork(() => 42), 42);
});
