import test from 'ava';
import { Future } from '../../lib/future.js';

test('a resolved future is completed, awaitable and waitable twice', async (t) => {
  const f = Future.resolved(3);
  t.true(f.completed);
  t.is(await f, 3);
  t.is(await f.wait(10), 3);
  t.is(await f.wait(-1), 3);
});

test('wait(ms) times out with undefined and loses nothing', async (t) => {
  const f = new Future<string>();
  t.is(await f.wait(20), undefined);
  t.is(await f.wait(0), undefined);
  t.false(f.completed);
  setTimeout(() => f.resolve('late'), 10);
  t.is(await f.wait(-1), 'late');
  t.is(await f, 'late');
});

test('a failed future rethrows on every wait, and settles only once', async (t) => {
  const f = new Future<number>();
  f.reject(new Error('bad'));
  f.resolve(1);
  await t.throwsAsync(f.wait(), { message: 'bad' });
  await t.throwsAsync(async () => f, { message: 'bad' });
  t.true(f.completed);
});

test('fromPromise follows the promise; wait rejects on bad timeout types', async (t) => {
  const f = Future.fromPromise(new Promise<number>((r) => setTimeout(() => r(7), 5)));
  t.false(f.completed);
  t.is(await f.wait(1000), 7);
  t.throws(() => f.wait('x' as never), { instanceOf: TypeError });
});

test('wait(Infinity) and waits beyond a timer (2^31 ms) wait without a timer instead of timing out at once', async (t) => {
  for (const ms of [Infinity, 2 ** 31, 2 ** 40]) {
    const f = new Future<string>();
    setTimeout(() => f.resolve('late'), 30);
    t.is(await f.wait(ms), 'late', String(ms));
  }
});

test('a timed-out wait takes its listener off the future: a polling loop leaves nothing behind', async (t) => {
  const f = new Future<number>();
  const listeners = (): number => (f as unknown as { listeners?: unknown[] }).listeners?.length ?? 0;
  for (let i = 0; i < 50; i++) t.is(await f.wait(1), undefined);
  t.is(listeners(), 0);
  const waiting = f.wait(10_000);
  t.is(listeners(), 1);
  f.resolve(5);
  t.is(await waiting, 5);
});
