// Claims on the nats driver, at the level of the claims bucket: a holder whose key another client held and released
// meanwhile (its renewal finds a delete marker) has lost the claim and does not silently take it back.
import test from 'ava';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { jetstream, StorageType } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { NatsClaims } from '../../../../lib/drivers/nats/nats-claims.js';
import { natsServerUnavailable, startNatsServer, type NatsServer } from './nats-server.js';

const unavailable = natsServerUnavailable();

if (unavailable) {
  test.skip(`nats claims tests skipped: ${unavailable}`, () => {});
} else {
  let server: NatsServer | undefined;
  let nc: NatsConnection | undefined;
  test.before(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
  });
  test.after.always(async () => {
    await nc?.close();
    await server?.stop();
  });

  test('nats claims: a key held and released by another client meanwhile is lost, not taken back', async (t) => {
    const kv = await new Kvm(jetstream(nc!)).create(`claims-lost-${process.pid}`, { storage: StorageType.Memory, ttl: 60_000, history: 1 });
    // Renewals every third of this TTL (the bucket's own TTL is long: nothing expires during the test).
    const claims = new NatsClaims(kv, 1_000, 2_000);
    const claim = await claims.acquire('k', 'partition 0', { standby: false });
    const lost = new Promise<void>((resolve) => claim.onLost!(() => resolve()));
    // Another client's record, then its release: only a delete marker is left when the holder renews.
    await kv.put('k', JSON.stringify({ id: 'someone-else', host: 'elsewhere', boot: '', pid: 1, start: null, since: new Date().toISOString() }));
    await kv.delete('k');
    await lost;
    t.true(claim.lost);
    const now = await kv.get('k');
    t.is(now?.operation, 'DEL');
    await claim.release(); // nothing to give back: the key is left as it is
    t.is((await kv.get('k'))?.revision, now?.revision);
  });
}
