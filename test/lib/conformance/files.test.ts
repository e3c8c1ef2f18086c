// The conformance suite on the files driver (a fresh root folder per test).
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Driver } from '../../../lib/index.js';
import { defineConformanceSuite } from '../../../lib/driver-spi.js';

defineConformanceSuite(test, 'files', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'diaspora-conf-'));
  const driver = await Driver.create('files', { root_path: root });
  return {
    driver,
    reopen: () => Driver.create('files', { root_path: root }),
    cleanup: async () => fs.rmSync(root, { recursive: true, force: true }),
  };
});
