// The conformance suite on the files driver (a fresh root folder per test).
import test from 'ava';
import { Driver } from '../../../lib/index.js';
import { defineConformanceSuite } from '../../../lib/driver-spi.js';
import { ownedTempDir } from '../../temp-dir.js';

defineConformanceSuite(test, 'files', async () => {
  const root = ownedTempDir('diaspora-conf-');
  const driver = await Driver.create('files', { root_path: root.path });
  return {
    driver,
    reopen: () => Driver.create('files', { root_path: root.path }),
    cleanup: async () => root.remove(),
  };
});
