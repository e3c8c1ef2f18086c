// The conformance suite on the nats driver, against a real `nats-server -js` started here (one per test file,
// a fresh driver prefix per test so every test sees an empty namespace). Skipped, saying why, without the binary.
import test from 'ava';
import { Driver } from '../../../lib/index.js';
import { defineConformanceSuite } from '../../../lib/driver-spi.js';
import { natsServerUnavailable, natsServerForFile } from '../drivers/nats/nats-server.js';

const unavailable = natsServerUnavailable();

if (unavailable) {
  test.skip(`nats conformance skipped: ${unavailable}`, () => {});
} else {
  const server = natsServerForFile(test);
  let counter = 0;
  defineConformanceSuite(test, 'nats', async () => {
    const options = { servers: server().url, prefix: `conf${++counter}-${process.pid}` };
    const driver = await Driver.create('nats', options);
    return {
      driver,
      reopen: () => Driver.create('nats', options),
      cleanup: async () => {},
    };
  });
}
