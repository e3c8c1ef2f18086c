// Behaviours specific to the nats driver (the shared ones are in test/lib/conformance/nats.test.ts): options,
// names NATS would reject, concurrent writers from several clients, claims of crashed holders, size limits.
import test from 'ava';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BatchSize, DiasporaError, Driver, ErrorCode, type JsonObject } from '../../../../lib/index.js';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { encodeNameToken, NatsNames } from '../../../../lib/drivers/nats/nats-names.js';
import { freePort, NATS_SERVER_BIN, natsServerUnavailable, natsServerForFile } from './nats-server.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const unavailable = natsServerUnavailable();
const code = (c: string) => (err: unknown): boolean => err instanceof DiasporaError && err.code === c;

test('nats: name tokens are injective and NATS-safe', (t) => {
  const names = ['a', 'a.b', 'a_b', 'a_5fb', 'a b', 'a*>', 'é', 'x'.repeat(64), 'x'.repeat(65), 'x'.repeat(200), `${'x'.repeat(199)}y`];
  const tokens = names.map(encodeNameToken);
  t.is(new Set(tokens).size, names.length);
  for (const tok of tokens) {
    t.regex(tok, /^[A-Za-z0-9_-]+$/);
    t.true(tok.length <= 64, tok);
  }
  t.is(encodeNameToken('topic-1'), 'topic-1');
});

test('nats: bad options are BAD_CONFIG before any connection', async (t) => {
  for (const options of [{ root_path: '/tmp' }, { replicas: 0 }, { replicas: 1.5 }, { prefix: 'a_b' }, { prefix: 'a.b' }, { servers: [] }, { servers: 42 }, { claim_ttl_ms: 10 }, { retry_ms: 60_000, duplicate_window_ms: 30_000 }] as JsonObject[]) {
    const e = await t.throwsAsync(Driver.create('nats', options));
    t.true(code(ErrorCode.BAD_CONFIG)(e), `${JSON.stringify(options)}: ${String(e)}`);
  }
});

test('nats: no server listening is a typed IO error', async (t) => {
  const port = await freePort();
  const e = await t.throwsAsync(Driver.create('nats', { servers: `nats://127.0.0.1:${port}`, request_timeout_ms: 500 }));
  t.true(code(ErrorCode.IO)(e), String(e));
});

if (unavailable) {
  test.skip(`nats driver tests needing a server skipped: ${unavailable}`, () => {});
} else {
  const server = natsServerForFile(test);
  let counter = 0;
  const options = (extra: JsonObject = {}): JsonObject => ({ servers: server().url, prefix: `drv${++counter}-${process.pid}`, ...extra });

  test('nats: topic names NATS rejects in stream names and subjects work, and any client opens them', async (t) => {
    const o = options();
    const d = await Driver.create('nats', o);
    const d2 = await Driver.create('nats', o);
    try {
      const names = ['with.dots', 'spaces and *>', 'ünïcode', 'x'.repeat(150)];
      for (const [i, name] of names.entries()) await d.createTopic(name, { options: { num_partitions: i + 1 } });
      t.deepEqual([...(await d2.listTopics()).keys()].sort(), [...names].sort());
      for (const [i, name] of names.entries()) {
        const topic = await d2.openTopic(name);
        t.is(topic.partitions.length, i + 1);
        await topic.producer().push({ name }, Buffer.from(name), 0);
        const c = await (await d.openTopic(name)).consumer('c', { until: 'end' });
        const e = (await c.pull())!;
        t.deepEqual(e.metadata, { name });
        t.is(e.data.toBuffer().toString(), name);
        await c.close();
      }
      await d.deleteTopic('with.dots');
      t.false(await d2.topicExists('with.dots'));
      t.true(code(ErrorCode.TOPIC_NOT_FOUND)(await t.throwsAsync(d2.openTopic('with.dots'))));
      await d2.createTopic('with.dots'); // a deleted topic's name is free again, and starts empty
      const again = await d2.openTopic('with.dots');
      t.is((await again.stats()).partitions[0].events, 0);
    } finally {
      await d2.close();
      await d.close();
    }
  });

  test('nats: several clients appending to one partition keep ids dense and each batch contiguous', async (t) => {
    const o = options();
    const clients = await Promise.all([0, 1, 2].map(() => Driver.create('nats', o)));
    try {
      await clients[0].createTopic('shared');
      const perClient = 600;
      const batch = 40;
      const results = await Promise.all(
        clients.map(async (d, c) => {
          const producer = (await d.openTopic('shared')).producer({ batchSize: batch as BatchSize });
          const ids: number[] = [];
          for (let b = 0; b < perClient / batch; b++) {
            const fs = Array.from({ length: batch }, (_, k) => producer.push({ c, i: b * batch + k }));
            ids.push(...(await Promise.all(fs)));
          }
          return ids;
        }),
      );
      const all = results.flat().sort((a, b) => a - b);
      t.deepEqual(all, Array.from({ length: clients.length * perClient }, (_, i) => i));
      for (const ids of results) {
        for (let b = 0; b < ids.length; b += batch) {
          t.deepEqual(ids.slice(b, b + batch), Array.from({ length: batch }, (_, k) => ids[b] + k), 'a batch is contiguous');
        }
      }
      // What was stored matches the ids the producers were given.
      const c = await (await clients[1].openTopic('shared')).consumer('check', { until: 'end' });
      for await (const e of c) {
        const md = e.metadata as JsonObject;
        t.is(results[md.c as number][md.i as number], e.id);
      }
    } finally {
      for (const d of clients) await d.close();
    }
  });

  test('nats: the claim of a crashed consumer is taken over (at once on this machine)', async (t) => {
    const o = options({ claim_ttl_ms: 60_000 });
    const d = await Driver.create('nats', o);
    try {
      await d.createTopic('claimed', { options: { num_partitions: 2 } });
      const child = spawn(process.execPath, [path.join(here, 'fixtures-bin', 'claim-holder.js'), o.servers as string, o.prefix as string, 'claimed', 'worker', '60000'], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const exited = new Promise((r) => child.once('exit', r));
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (c: Buffer) => c.toString().includes('READY') && resolve());
        child.once('exit', () => reject(new Error('claim holder exited early')));
      });
      const topic = await d.openTopic('claimed');
      t.true(code(ErrorCode.CONSUMER_BUSY)(await t.throwsAsync(topic.consumer('worker'))));
      t.true(code(ErrorCode.CONSUMER_BUSY)(await t.throwsAsync(topic.resetConsumer('worker', 'earliest'))));
      child.kill('SIGKILL');
      await exited;
      // The TTL is a minute: only the dead-local-holder check can explain an immediate takeover.
      const c = await topic.consumer('worker');
      await topic.producer().push({ n: 1 }, undefined, 1);
      t.is((await c.pull())!.partition, 1);
      await c.close();
    } finally {
      await d.close();
    }
  });

  test('nats: an event larger than the server accepts is EVENT_TOO_LARGE and nothing of its batch is stored', async (t) => {
    const d = await Driver.create('nats', options());
    try {
      await d.createTopic('big');
      const topic = await d.openTopic('big');
      const p = topic.producer({ batchSize: 3 as BatchSize });
      const fs = [p.push({ a: 1 }), p.push({ a: 2 }, Buffer.alloc(2 * 1024 * 1024)), p.push({ a: 3 })];
      const e = await t.throwsAsync(fs[1].wait());
      t.true(code(ErrorCode.EVENT_TOO_LARGE)(e), String(e));
      for (const f of [fs[0], fs[2]]) t.true(code(ErrorCode.EVENT_TOO_LARGE)(await t.throwsAsync(f.wait())));
      t.is((await topic.stats()).partitions[0].events, 0);
      // The refused batch is reported by the next flush too (docs/api.md), once.
      t.true(code(ErrorCode.EVENT_TOO_LARGE)(await t.throwsAsync(p.flush())));
      const next = p.push({ a: 4 });
      await p.flush();
      t.is(await next, 0);
    } finally {
      await d.close();
    }
  });

  test('nats: resetConsumer to an id below the first stored id (a stream purged from outside) moves to that first id', async (t) => {
    const o = options();
    const d = await Driver.create('nats', o);
    const nc = await connect({ servers: o.servers as string });
    try {
      await d.createTopic('purged');
      const topic = await d.openTopic('purged');
      const p = topic.producer();
      for (let i = 0; i < 6; i++) p.push({ i });
      await p.flush();
      // JetStream limits or an operator's purge move a stream's first sequence: ids 0..3 are gone.
      await (await jetstreamManager(nc)).streams.purge(new NatsNames(o.prefix as string).stream('purged', 0), { keep: 2 });
      for (const to of [0, 3, 4]) {
        await topic.resetConsumer('r', to);
        t.deepEqual((await topic.listConsumers())[0]!.partitions, [{ partition: 0, lastAcknowledged: 3 }], `reset to ${to}`);
        const c = await topic.consumer('r');
        t.is((await c.pull())?.id, 4, `reset to ${to}: the consumer reads the first stored id`);
        await c.close();
      }
    } finally {
      await nc.close();
      await d.close();
    }
  });

  test('nats: a server without JetStream is BAD_CONFIG', async (t) => {
    const port = await freePort();
    const plain = spawn(NATS_SERVER_BIN, ['-a', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      await new Promise<void>((resolve) => {
        let out = '';
        plain.stderr!.on('data', (c: Buffer) => (out += c.toString()) && /Server is ready/.test(out) && resolve());
      });
      const e = await t.throwsAsync(Driver.create('nats', { servers: `nats://127.0.0.1:${port}` }));
      t.true(code(ErrorCode.BAD_CONFIG)(e), String(e));
    } finally {
      plain.kill('SIGKILL');
    }
  });
}
