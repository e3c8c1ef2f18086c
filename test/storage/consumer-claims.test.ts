import test from 'ava';
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConsumerClaims } from '../../storage/consumer-claims.js';
import { consumerDir } from '../../storage/consumer-name.js';
import { StorageError } from '../../storage/types.js';
import { tempDir } from '../temp-dir.js';

const here = dirname(fileURLToPath(import.meta.url));
const holderScript = join(here, 'fixtures-bin', 'consumer-claim-holder.js');

function tempTopic(t: { teardown(fn: () => void): void }): string {
  return tempDir(t, 'ds-claims-');
}

type Msg = { type: string; code?: string; message?: string };

/** Forks a claim holder and collects its messages. */
function holder(t: { teardown(fn: () => void): void }, args: string[]) {
  const child: ChildProcess = fork(holderScript, args, { stdio: 'inherit' });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const queue: Msg[] = [];
  const waiters: Array<(m: Msg) => void> = [];
  child.on('message', (m: Msg) => {
    const w = waiters.shift();
    if (w) w(m);
    else queue.push(m);
  });
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  return {
    child,
    exited,
    next(): Promise<Msg> {
      const m = queue.shift();
      return m ? Promise.resolve(m) : new Promise((r) => waiters.push(r));
    },
  };
}

async function rejection(p: Promise<unknown>): Promise<StorageError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof StorageError) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}

test('second claimant of a taken partition gets CONSUMER_BUSY naming consumer and partition', async (t) => {
  const topic = tempTopic(t);
  const c = await ConsumerClaims.acquire(topic, 'app2', 3, { standby: false });
  t.is(c.partition, 3);
  t.is(c.consumerName, 'app2');
  t.true(ConsumerClaims.isClaimed(topic, 'app2', 3));
  t.false(ConsumerClaims.isClaimed(topic, 'app2', 4));
  t.false(ConsumerClaims.isClaimed(topic, 'other', 3));
  const err = await rejection(ConsumerClaims.acquire(topic, 'app2', 3, { standby: false }));
  t.is(err.code, 'CONSUMER_BUSY');
  t.is(err.details.consumer, 'app2');
  t.is(err.details.partition, 3);
  t.regex(err.message, /partition 3/);
  t.regex(err.message, /"app2"/);
  t.is(t.throws(() => ConsumerClaims.tryAcquireSync(topic, 'app2', 3), { instanceOf: StorageError })?.code, 'CONSUMER_BUSY');
  // Other partitions and other names are independent.
  const d = await ConsumerClaims.acquire(topic, 'app2', 4, { standby: false });
  const e = await ConsumerClaims.acquire(topic, 'other', 3, { standby: false });
  c.release();
  c.release(); // idempotent
  t.true(c.released);
  t.false(ConsumerClaims.isClaimed(topic, 'app2', 3));
  const again = await ConsumerClaims.acquire(topic, 'app2', 3, { standby: false });
  again.release();
  d.release();
  e.release();
  // Released claims keep their folders (a lock folder is never deleted: docs/locks.md), in the free state.
  t.deepEqual(fs.readdirSync(consumerDir(topic, 'app2')).sort(), ['00000003.claim.d', '00000004.claim.d', 'name']);
  t.false(ConsumerClaims.isClaimed(topic, 'app2', 3));
  t.false(ConsumerClaims.isClaimed(topic, 'app2', 4));
});

test('bad arguments: TypeError or typed errors', async (t) => {
  const topic = tempTopic(t);
  await t.throwsAsync(ConsumerClaims.acquire(topic, 'c', 0, undefined as never), { instanceOf: TypeError });
  await t.throwsAsync(ConsumerClaims.acquire(topic, 'c', 0, { standby: 'yes' as never }), { instanceOf: TypeError });
  await t.throwsAsync(ConsumerClaims.acquire(topic, 'c', '0' as never, { standby: false }), { instanceOf: TypeError });
  t.is((await rejection(ConsumerClaims.acquire(topic, 'c', -1, { standby: false }))).code, 'OUT_OF_RANGE');
  t.is((await rejection(ConsumerClaims.acquire(topic, '', 0, { standby: false }))).code, 'BAD_NAME');
  t.is((await rejection(ConsumerClaims.acquire(topic, 'c', 0, { standby: false, staleMs: 100 }))).code, 'BAD_CONFIG');
  t.is((await rejection(ConsumerClaims.acquire(topic, 'c', 0, { standby: true, pollMs: 0 }))).code, 'BAD_CONFIG');
  t.is((await rejection(ConsumerClaims.acquire(join(topic, 'nope'), 'c', 0, { standby: false }))).code, 'TOPIC_NOT_FOUND');
});

test('a standby takes over when the holder releases', async (t) => {
  const topic = tempTopic(t);
  const first = await ConsumerClaims.acquire(topic, 'fifo /tmp/x', 0, { standby: false });
  let tookOver = false;
  const standby = ConsumerClaims.acquire(topic, 'fifo /tmp/x', 0, { standby: true, pollMs: 2000 }).then((c) => {
    tookOver = true;
    return c;
  });
  await new Promise((r) => setTimeout(r, 300));
  t.false(tookOver); // still waiting while the first one holds it
  first.release();
  const second = await standby; // woken by the watch on the consumer directory, or by the poll
  t.true(ConsumerClaims.isClaimed(topic, 'fifo /tmp/x', 0));
  t.is((await rejection(ConsumerClaims.acquire(topic, 'fifo /tmp/x', 0, { standby: false }))).code, 'CONSUMER_BUSY');
  second.release();
});

test('a standby wait is aborted with CLOSED and leaves no claim behind', async (t) => {
  const topic = tempTopic(t);
  const first = await ConsumerClaims.acquire(topic, 'c', 1, { standby: false });
  const ac = new AbortController();
  const waiting = rejection(ConsumerClaims.acquire(topic, 'c', 1, { standby: true, signal: ac.signal, pollMs: 50 }));
  setTimeout(() => ac.abort(new Error('consumer closed')), 150);
  const err = await waiting;
  t.is(err.code, 'CLOSED');
  t.is((err.cause as Error).message, 'consumer closed');
  t.true(first.released === false && first.lost === false);
  first.release();
  t.false(ConsumerClaims.isClaimed(topic, 'c', 1));
  // An already-aborted signal fails at once even on a free partition.
  t.is((await rejection(ConsumerClaims.acquire(topic, 'c', 1, { standby: true, signal: AbortSignal.abort() }))).code, 'CLOSED');
  t.false(ConsumerClaims.isClaimed(topic, 'c', 1));
});

test('a claim held in another process: CONSUMER_BUSY here; a standby takes over after the holder is SIGKILLed', async (t) => {
  const topic = tempTopic(t);
  const h = holder(t, [topic, 'app2', '5', '3000', '0']);
  t.is((await h.next()).type, 'claimed');
  const err = await rejection(ConsumerClaims.acquire(topic, 'app2', 5, { standby: false, staleMs: 3000 }));
  t.is(err.code, 'CONSUMER_BUSY');
  t.true(ConsumerClaims.isClaimed(topic, 'app2', 5, 3000));
  let tookOver = false;
  const standby = ConsumerClaims.acquire(topic, 'app2', 5, { standby: true, staleMs: 3000, pollMs: 100 }).then((c) => {
    tookOver = true;
    return c;
  });
  await new Promise((r) => setTimeout(r, 3300)); // longer than staleMs: the live holder keeps refreshing its claim
  t.false(tookOver);
  const killedAt = Date.now();
  h.child.kill('SIGKILL');
  await h.exited;
  const claim = await standby;
  t.log(`standby took over ${Date.now() - killedAt} ms after SIGKILL (staleMs 3000)`);
  t.true(ConsumerClaims.isClaimed(topic, 'app2', 5, 3000));
  claim.release();
});

test('a standby in another process takes over when this process releases; exiting releases too', async (t) => {
  const topic = tempTopic(t);
  const mine = await ConsumerClaims.acquire(topic, 'shared', 0, { standby: false, staleMs: 3000 });
  const h = holder(t, [topic, 'shared', '0', '3000', '1']);
  await new Promise((r) => setTimeout(r, 300));
  mine.release();
  t.is((await h.next()).type, 'claimed');
  t.is((await rejection(ConsumerClaims.acquire(topic, 'shared', 0, { standby: false, staleMs: 3000 }))).code, 'CONSUMER_BUSY');
  h.child.send({ type: 'exit' }); // a clean exit without release(): a dead holder's claim counts for nothing
  await h.exited;
  t.false(ConsumerClaims.isClaimed(topic, 'shared', 0, 3000));
  const again = await ConsumerClaims.acquire(topic, 'shared', 0, { standby: false, staleMs: 3000 });
  again.release();
});

test('a compromised claim is marked lost and reported, without crashing the process', async (t) => {
  const topic = tempTopic(t);
  const claim = await ConsumerClaims.acquire(topic, 'c', 0, { standby: false, staleMs: 2000 });
  const lost = new Promise<Error>((resolve) => claim.onLost(resolve));
  claim.onLost(() => {
    throw new Error('a failing listener must not crash anything');
  });
  // Someone removed the claim (e.g. an operator): the next periodic check notices.
  fs.rmSync(join(consumerDir(topic, 'c'), '00000000.claim.d'), { recursive: true });
  const err = await lost;
  t.true(claim.lost);
  t.is((err as StorageError).code, 'LOCK_FAILED');
  t.regex(err.message, /lost/);
  const late = await new Promise<Error>((resolve) => claim.onLost(resolve)); // late listeners still hear of it
  t.is(late, err);
  claim.release(); // no-op once lost
  const fresh = await ConsumerClaims.acquire(topic, 'c', 0, { standby: false, staleMs: 2000 });
  claim.release(); // must not release the new holder's claim
  t.true(ConsumerClaims.isClaimed(topic, 'c', 0, 2000));
  fresh.release();
});

test('a claim whose folder was wiped and re-claimed before it noticed: its release leaves the new holder alone', async (t) => {
  const topic = tempTopic(t);
  const old = await ConsumerClaims.acquire(topic, 'c', 2, { standby: false });
  fs.rmSync(join(consumerDir(topic, 'c'), '00000002.claim.d'), { recursive: true });
  // The new folder reaches the very generation number the old claim had: only its record tells them apart.
  const fresh = await ConsumerClaims.acquire(topic, 'c', 2, { standby: false });
  t.false(old.lost); // not noticed yet (checked every second)
  old.release();
  t.true(ConsumerClaims.isClaimed(topic, 'c', 2));
  t.is((await rejection(ConsumerClaims.acquire(topic, 'c', 2, { standby: false }))).code, 'CONSUMER_BUSY');
  fresh.release();
  t.false(ConsumerClaims.isClaimed(topic, 'c', 2));
});

test('old-format claim leftovers: a live owner\'s claim counts (a standby waits for it), a dead owner\'s is removed', async (t) => {
  const topic = tempTopic(t);
  (await ConsumerClaims.acquire(topic, 'c', 1, { standby: false })).release(); // creates the consumer's folder
  const legacy = join(consumerDir(topic, 'c'), '00000001.claim');
  const old = fork(holderScript, [topic, 'other', '0', '3000', '0'], { stdio: 'ignore' }); // any live process
  t.teardown(() => {
    if (old.exitCode === null && old.signalCode === null) old.kill('SIGKILL');
  });
  fs.mkdirSync(legacy);
  fs.writeFileSync(`${legacy}.owner`, JSON.stringify({ pid: old.pid, start: null }));
  t.true(ConsumerClaims.isClaimed(topic, 'c', 1));
  const err = await rejection(ConsumerClaims.acquire(topic, 'c', 1, { standby: false }));
  t.is(err.code, 'CONSUMER_BUSY');
  t.regex(err.message, new RegExp(`pid ${old.pid} of an older diaspora-stream version`));
  const standby = ConsumerClaims.acquire(topic, 'c', 1, { standby: true, pollMs: 50 });
  old.kill('SIGKILL');
  const claim = await standby;
  t.false(fs.existsSync(legacy));
  t.false(fs.existsSync(`${legacy}.owner`));
  t.true(ConsumerClaims.isClaimed(topic, 'c', 1));
  claim.release();
});
