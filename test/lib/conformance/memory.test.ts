// The conformance suite on the in-memory driver.
import test from 'ava';
import { Driver } from '../../../lib/index.js';
import { defineConformanceSuite } from '../../../lib/driver-spi.js';

defineConformanceSuite(test, 'memory', async () => {
  const driver = await Driver.create('memory');
  return { driver, reopen: async () => driver, cleanup: async () => {} };
});
