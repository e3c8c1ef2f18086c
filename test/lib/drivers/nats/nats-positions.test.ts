// Consumer positions on the nats driver that are not valid (written by hand or by another tool into the offsets
// bucket): the listing (API and `diaspora-ctl topic describe`) reports each one as damaged and every other position
// normally, a consumer opening that partition fails with CORRUPTION naming the key, and resetConsumer repairs it.
import test from 'ava';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connect } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { DiasporaError, Driver, ErrorCode } from '../../../../lib/index.js';
import { decodeNameToken, encodeNameToken, NatsNames } from '../../../../lib/drivers/nats/nats-names.js';
import { natsServerUnavailable, natsServerForFile } from './nats-server.js';

const CTL = fileURLToPath(new URL('../../../../scripts/cli/diaspora-ctl.js', import.meta.url));
const unavailable = natsServerUnavailable();

function ctl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CTL, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

test('nats: a key token gives back the consumer name it encodes (null for a shortened one)', (t) => {
  for (const name of ['a', 'a.b', 'a_b', 'a_5fb', 'a b', 'é', 'x'.repeat(64)]) t.is(decodeNameToken(encodeNameToken(name)), name);
  t.is(decodeNameToken(encodeNameToken('x'.repeat(65))), null);
  for (const bad of ['a_5', '_zz', 'a.b', '_ff', '_41']) t.is(decodeNameToken(bad), null, bad); // '_41' is 'A', written 'A'
});

if (unavailable) {
  test.skip(`nats position tests skipped: ${unavailable}`, () => {});
} else {
  const server = natsServerForFile(test);

  test('nats: a damaged stored position is listed as damaged, fails its consumer with CORRUPTION, and a reset repairs it', async (t) => {
    const prefix = `pos${process.pid}`;
    const names = new NatsNames(prefix);
    const d = await Driver.create('nats', { servers: server().url, prefix });
    const nc = await connect({ servers: server().url });
    try {
      await d.createTopic('t', { options: { num_partitions: 3 } });
      const topic = await d.openTopic('t');
      const p = topic.producer();
      for (let i = 0; i < 15; i++) p.push({ i }, undefined, i % 3);
      await p.flush();
      await topic.resetConsumer('a', 2);
      await topic.resetConsumer('b', 3);
      const kv = await new Kvm(jetstream(nc)).open(names.offsetsBucket);
      const keyA1 = names.consumerKey('t', 'a', 1);
      const keyB0 = names.consumerKey('t', 'b', 0);
      const keyB2 = names.consumerKey('t', 'b', 2);
      await kv.put(keyA1, 'not json {');
      await kv.put(keyB0, JSON.stringify({ consumer: 'b', partition: 0, last: 'abc' }));
      await kv.put(keyB2, '7'); // read as "nothing acknowledged" before: b would have re-read partition 2 from 0

      const listed = await topic.listConsumers();
      const damage = (key: string, why: RegExp) => ({ code: 'CORRUPTION', file: `${names.offsetsBucket}/${key}`, message: why });
      t.is(listed.length, 2);
      const [a, b] = listed;
      t.is(a!.name, 'a');
      t.deepEqual(a!.partitions.map((x) => [x.partition, x.lastAcknowledged]), [[0, 1], [1, null], [2, 1]]);
      t.is(a!.partitions[0]!.damaged, undefined);
      t.like(a!.partitions[1]!.damaged, { code: 'CORRUPTION', file: damage(keyA1, /x/).file });
      t.regex(a!.partitions[1]!.damaged!.message, /consumer "a" on partition 1 of topic "t" \(KV pos\d+_offsets\/t\.a\.1\) is damaged: not JSON .*resetConsumer/);
      t.is(b!.name, 'b');
      t.deepEqual(b!.partitions.map((x) => [x.partition, x.lastAcknowledged, x.damaged?.file]), [[0, null, `${names.offsetsBucket}/${keyB0}`], [1, 2, undefined], [2, null, `${names.offsetsBucket}/${keyB2}`]]);
      t.regex(b!.partitions[0]!.damaged!.message, /"last" is "abc", not an event id/);
      t.regex(b!.partitions[2]!.damaged!.message, /not an object \(7\)/);
      t.deepEqual(await d.listConsumers('t'), listed);

      const described = await ctl(['topic', 'describe', 't', '--driver', 'nats', '--driver.servers', server().url, '--driver.prefix', prefix]);
      t.is(described.code, 0, described.stderr);
      t.regex(described.stdout, /\na +1 +DAMAGED +5 +\?\n/);
      t.regex(described.stdout, new RegExp(`consumer 'a' partition 1: .*KV ${names.offsetsBucket}/t\\.a\\.1.* \\[CORRUPTION\\]`));

      const e = await t.throwsAsync(topic.consumer('a'));
      t.true(e instanceof DiasporaError && e.code === ErrorCode.CORRUPTION, String(e));
      t.regex(e!.message, /t\.a\.1\) is damaged: not JSON/);
      const eb = await t.throwsAsync(topic.consumer('b', { targets: [2] }));
      t.true(eb instanceof DiasporaError && eb.code === ErrorCode.CORRUPTION, String(eb));

      await topic.resetConsumer('a', 'earliest', [1]);
      t.deepEqual((await topic.listConsumers())[0]!.partitions, [{ partition: 0, lastAcknowledged: 1 }, { partition: 1, lastAcknowledged: null }, { partition: 2, lastAcknowledged: 1 }]);
      const c = await topic.consumer('a', { targets: [1] });
      t.is((await c.pull())?.id, 0, 'the repaired partition is read from its start');
      await c.close();
    } finally {
      await nc.close();
      await d.close();
    }
  });
}
