// The conformance suite on the files driver writing the reference (C++/Python) on-disk format.
import test from 'ava';
import { Driver } from '../../../lib/index.js';
import { defineConformanceSuite } from '../../../lib/driver-spi.js';
import { ownedTempDir } from '../../temp-dir.js';

defineConformanceSuite(test, 'files reference format', async () => {
  const root = ownedTempDir('diaspora-conf-ref-');
  const options = { root_path: root.path, topic_format: 'reference' };
  const driver = await Driver.create('files', options);
  return {
    driver,
    reopen: () => Driver.create('files', options),
    cleanup: async () => root.remove(),
  };
});

test('files reference format: the suite\'s topics are written in the reference layout', async (t) => {
  const root = ownedTempDir('diaspora-conf-ref-');
  t.teardown(root.remove);
  const driver = await Driver.create('files', { root_path: root.path, topic_format: 'reference' });
  try {
    await driver.createTopic('layout');
    t.is((await driver.listTopics()).get('layout')?.format, 'reference');
  } finally {
    await driver.close();
  }
});
