// Drivers named "name:module": the module is imported and registers the driver (or default-exports its factory).
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DiasporaError, Driver, ErrorCode, registerDriver } from '../../lib/index.js';
import { tempDir } from '../temp-dir.js';

const dist = fileURLToPath(new URL('../../', import.meta.url)); // dist/

function plugin(t: { teardown(fn: () => void): void }, body: string): string {
  const dir = tempDir(t, 'diaspora-plugin-');
  const file = path.join(dir, 'plugin.mjs');
  fs.writeFileSync(file, body);
  return file;
}

test('"name:module" imports a plugin that registers the driver, then uses it', async (t) => {
  const file = plugin(t, `
    import { registerDriver } from ${JSON.stringify(path.join(dist, 'lib/index.js'))};
    import { MemoryDriverBackend } from ${JSON.stringify(path.join(dist, 'lib/drivers/memory/memory-driver.js'))};
    registerDriver('registered-plugin', (options) => new MemoryDriverBackend(options));
  `);
  const d = await Driver.create(`registered-plugin:${file}`);
  await d.createTopic('t');
  t.is(await (await d.openTopic('t')).producer().push({ a: 1 }), 0);
  t.truthy(await Driver.create('registered-plugin'), 'registered for later use by name');
});

test('a plugin may default-export its factory instead; a module that provides neither is UNKNOWN_DRIVER', async (t) => {
  const file = plugin(t, `
    import { MemoryDriverBackend } from ${JSON.stringify(path.join(dist, 'lib/drivers/memory/memory-driver.js'))};
    export default (options) => new MemoryDriverBackend(options);
  `);
  const d = await Driver.create(`default-plugin:${file}`);
  t.true(await d.topicExists('nothing') === false);
  const empty = plugin(t, 'export const x = 1;\n');
  const err = await t.throwsAsync(Driver.create(`nothing-here:${empty}`));
  t.true(err instanceof DiasporaError && err.code === ErrorCode.UNKNOWN_DRIVER);
});

test.serial('a driver type with an empty name or module part ("files:", ":x") is BAD_CONFIG, and nothing is created', async (t) => {
  const cwd = process.cwd();
  const dir = tempDir(t, 'diaspora-cwd-');
  process.chdir(dir); // the files driver's default root is ./diaspora_data
  t.teardown(() => process.chdir(cwd));
  for (const type of ['files:', 'memory:', ':memory', ':']) {
    const err = await t.throwsAsync(Driver.create(type, {}));
    t.true(err instanceof DiasporaError && err.code === ErrorCode.BAD_CONFIG, `${type}: ${String(err)}`);
  }
  t.deepEqual(fs.readdirSync(dir), []);
  t.throws(() => registerDriver('a:b', () => null as never), { instanceOf: TypeError });
});
