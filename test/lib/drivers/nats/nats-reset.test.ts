// resetConsumer over several partitions on the nats driver is all or nothing: a partition held by a live consumer
// (CONSUMER_BUSY) or a write the server refuses moves none of them, and a resetting process killed part way leaves a
// record that the next holder of each partition's claim finishes (every partition moved, never some of them), or
// that deleting the consumer removes with its positions.
import test, { type ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { DiasporaError, Driver, ErrorCode, type JsonObject, type TopicHandle } from '../../../../lib/index.js';
import { NatsNames } from '../../../../lib/drivers/nats/nats-names.js';
import { NATS_RESET_KILL_ENV } from '../../../../lib/drivers/nats/nats-reset.js';
import { natsServerUnavailable, startNatsServer } from './nats-server.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const unavailable = natsServerUnavailable();
const code = (c: string) => (err: unknown): boolean => err instanceof DiasporaError && err.code === c;

/** Topic `t`, 3 partitions of 5 events (ids 0..4), consumer `name` at 2 (last acknowledged 1) everywhere. */
async function prepare(d: Driver, name: string): Promise<TopicHandle> {
  if (!(await d.listTopics()).has('t')) {
    await d.createTopic('t', { options: { num_partitions: 3 } });
    const topic = await d.openTopic('t');
    const p = topic.producer();
    for (let i = 0; i < 15; i++) p.push({ i }, undefined, i % 3);
    await p.flush();
  }
  const topic = await d.openTopic('t');
  await topic.resetConsumer(name, 2);
  return topic;
}

async function positions(topic: TopicHandle, name: string): Promise<Array<number | null>> {
  return ((await topic.listConsumers()).find((c) => c.name === name)?.partitions ?? []).map((p) => p.lastAcknowledged);
}

/**
 * Topic `t` of prepare() on a fresh server, and a resetter child (moving consumer `k` to 4) killed after `step`:
 * checks it died there, then runs `body` with the topic and the offsets bucket.
 */
async function afterKilledReset(
  t: ExecutionContext, prefix: string, step: 'committed' | 'applied-1',
  body: (topic: TopicHandle, kv: KV, names: NatsNames) => Promise<void>,
): Promise<void> {
  const server = await startNatsServer();
  t.teardown(() => server.stop());
  const names = new NatsNames(prefix);
  const d = await Driver.create('nats', { servers: server.url, prefix });
  const nc = await connect({ servers: server.url });
  try {
    const topic = await prepare(d, 'k');
    const child = spawn(process.execPath, [path.join(here, 'fixtures-bin', 'resetter.js'), server.url, prefix, 't', 'k', '4'], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, [NATS_RESET_KILL_ENV]: step },
    });
    let out = '';
    child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    const [, signal] = (await new Promise((r) => child.once('exit', (...a) => r(a)))) as [number | null, string | null];
    t.is(signal, 'SIGKILL', out);
    t.notRegex(out, /RESET/);
    const kv = await new Kvm(jetstream(nc)).open(names.offsetsBucket);
    t.is((await kv.get(names.resetKey('t', 'k')))?.operation, 'PUT', 'the interrupted reset is recorded');
    await body(topic, kv, names);
  } finally {
    await nc.close();
    await d.close();
  }
}

if (unavailable) {
  test.skip(`nats reset tests skipped: ${unavailable}`, () => {});
} else {
  test('nats: a reset refused on one partition held by a live consumer moves no partition', async (t) => {
    const server = await startNatsServer();
    t.teardown(() => server.stop());
    const d = await Driver.create('nats', { servers: server.url, prefix: 'busy' });
    try {
      const topic = await prepare(d, 'c');
      const live = await topic.consumer('c', { targets: [1] });
      const e = await t.throwsAsync(topic.resetConsumer('c', 4));
      t.true(code(ErrorCode.CONSUMER_BUSY)(e), String(e));
      t.deepEqual(await positions(topic, 'c'), [1, 1, 1], 'partition 0 (before the busy one) was not moved');
      await live.close();
      await topic.resetConsumer('c', 4);
      t.deepEqual(await positions(topic, 'c'), [3, 3, 3]);
    } finally {
      await d.close();
    }
  });

  test('nats: a reset whose write of one partition the server refuses puts back the partitions already written', async (t) => {
    const prefix = 'denied';
    const names = new NatsNames(prefix);
    // The server refuses this user's writes of partition 2's position (a real failure of one write among several).
    const denied = `$KV.${names.offsetsBucket}.${names.consumerKey('t', 'c', 2)}`;
    const server = await startNatsServer({
      config: `authorization { users = [
        { user: admin, password: admin }
        { user: limited, password: limited, permissions: { publish: { allow: [">"], deny: ["${denied}"] }, subscribe: { allow: [">"] } } }
      ] }\n`,
    });
    t.teardown(() => server.stop());
    const base: JsonObject = { servers: server.url, prefix };
    const admin = await Driver.create('nats', { ...base, user: 'admin', pass: 'admin' });
    const limited = await Driver.create('nats', { ...base, user: 'limited', pass: 'limited', request_timeout_ms: 300, retry_ms: 600 });
    const nc = await connect({ servers: server.url, user: 'admin', pass: 'admin' });
    try {
      const topic = await prepare(admin, 'c');
      const e = await t.throwsAsync((await limited.openTopic('t')).resetConsumer('c', 4));
      // A permissions refusal is final: IO at once (it was retried until retry_ms and reported as TIMEOUT).
      t.true(code(ErrorCode.IO)(e), String(e));
      t.regex(e!.message, /failed at partition 2: .*no position was moved/);
      t.regex(e!.message, /permissions violation/i);
      t.deepEqual(await positions(topic, 'c'), [1, 1, 1], 'partitions 0 and 1 were put back');
      const record = await (await new Kvm(jetstream(nc)).open(names.offsetsBucket)).get(names.resetKey('t', 'c'));
      t.not(record?.operation, 'PUT', 'no reset record is left to finish');
      for (const p of [0, 1, 2]) {
        const c = await topic.consumer('c', { targets: [p] });
        t.is((await c.pull())?.id, 2, `partition ${p} is read from where it was`);
        await c.close();
      }
    } finally {
      await nc.close();
      await limited.close();
      await admin.close();
    }
  });

  test('nats: deleteConsumer after a reset killed part way deletes the record too: the name starts over everywhere', async (t) => {
    await afterKilledReset(t, 'kill-delete', 'applied-1', async (topic, kv, names) => {
      t.true(await topic.deleteConsumer('k'));
      t.not((await kv.get(names.resetKey('t', 'k')))?.operation, 'PUT', 'the record went with the positions');
      t.false((await topic.listConsumers()).some((c) => c.name === 'k'));
      // Nothing finishes the old reset later: a new consumer of the name reads every partition from its first event.
      const c = await topic.consumer('k', { until: 'end' });
      const first = new Map<number, number>();
      for (let ev = await c.pull(); ev !== null; ev = await c.pull()) if (!first.has(ev.partition)) first.set(ev.partition, ev.id);
      t.deepEqual([...first].sort(), [[0, 0], [1, 0], [2, 0]]);
      await c.close();
    });
  });

  for (const step of ['committed', 'applied-1'] as const) {
    test(`nats: a reset killed after step '${step}' is finished by the next holder of each claim`, async (t) => {
      await afterKilledReset(t, `kill-${step}`, step, async (topic, kv, names) => {
        t.deepEqual(await positions(topic, 'k'), [3, 3, 3], 'the listing shows the reset as it will be finished');
        if (step === 'committed') {
          // A consumer opening every partition finishes each one under its claim (the dead child's claims are taken at once).
          const c = await topic.consumer('k');
          const events = [await c.pull(), await c.pull(), await c.pull()];
          t.deepEqual(events.map((ev) => [ev!.partition, ev!.id]).sort(), [[0, 4], [1, 4], [2, 4]]);
          await c.close();
        } else {
          // The next reset (of partition 0 only) finishes the others first, then moves partition 0.
          await topic.resetConsumer('k', 'earliest', [0]);
          t.deepEqual(await positions(topic, 'k'), [null, 3, 3]);
          const c = await topic.consumer('k', { targets: [1, 2] });
          const events = [await c.pull(), await c.pull()];
          t.deepEqual(events.map((ev) => [ev!.partition, ev!.id]).sort(), [[1, 4], [2, 4]]);
          await c.close();
        }
        t.not((await kv.get(names.resetKey('t', 'k')))?.operation, 'PUT', 'the finished record is gone');
      });
    });
  }
}
