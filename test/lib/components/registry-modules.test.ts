// "name:module-path" component types: the module is imported, registers the name (or exports a default factory).
// Tests that change process.cwd() are serial; this file runs in its own process.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import test from 'ava';
import { DiasporaError, ErrorCode, InvalidMetadata } from '../../../lib/errors.js';
import {
  partitionSelectorFromMetadata,
  serializerFromMetadata,
  validatorFromMetadata,
} from '../../../lib/components/registry.js';
import { tempDir } from '../../temp-dir.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const customModule = path.join(here, 'fixtures-bin', 'custom-components.js');
const rebuildScript = path.join(here, 'fixtures-bin', 'rebuild-validator.js');

const tmp = tempDir({ teardown: test.after.always }, 'components-modules-');

function writeModule(name: string, source: string): string {
  const file = path.join(tmp, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, source);
  return file;
}

function accepts(v: { validate(md: never): void }, md: unknown): boolean {
  try {
    v.validate(md as never);
    return true;
  } catch (err) {
    if (!(err instanceof InvalidMetadata)) throw err;
    return false;
  }
}

test.serial('an absolute module path registers its components on import', async (t) => {
  const v = await validatorFromMetadata({ type: `even-only:${customModule}`, field: 'x' });
  t.true(accepts(v, { x: 4 }));
  t.false(accepts(v, { x: 3 }));
  t.deepEqual(v.metadata(), { type: `even-only:${customModule}`, field: 'x' });
  // The module registered its other components too.
  const s = await serializerFromMetadata({ type: `tagged:${customModule}` });
  const bytes = s.serialize({ a: 1 });
  t.is(bytes[0], 1);
  t.deepEqual(s.deserialize(bytes), { a: 1 });
  const p = await partitionSelectorFromMetadata({ type: `last:${customModule}` });
  p.setPartitions([{}, {}, {}]);
  t.is(p.selectPartitionFor({}), 2);
});

test.serial('a relative path is resolved against process.cwd()', async (t) => {
  const file = writeModule('rel/default-export.mjs', `
    export default function (config) {
      return { validate(md) { if (md !== config.only) { const e = new Error('no'); throw e; } }, metadata: () => config };
    }
  `);
  const previous = process.cwd();
  process.chdir(tmp);
  try {
    const v = await validatorFromMetadata({ type: 'only-value:./rel/default-export.mjs', only: 7 });
    t.notThrows(() => v.validate(7 as never));
    t.throws(() => v.validate(8 as never));
    // Without "./": an existing file relative to the cwd is still a file.
    const s = await serializerFromMetadata({ type: 'default-export-ser:rel/default-export.mjs' }).catch((e) => e);
    t.true(s instanceof TypeError, 'a validator factory does not make a serializer');
  } finally {
    process.chdir(previous);
  }
  t.true(fs.existsSync(file));
});

test.serial('a module exporting a default factory is registered under the requested name', async (t) => {
  const file = writeModule('default-selector.mjs', `
    export default (config) => ({ setPartitions() {}, selectPartitionFor: () => config.fixed, metadata: () => config });
  `);
  const url = pathToFileURL(file).href;
  const p = await partitionSelectorFromMetadata({ type: `fixed:${url}`, fixed: 1 });
  t.is(p.selectPartitionFor({}), 1);
  // Now registered: the name alone works.
  const again = await partitionSelectorFromMetadata({ type: 'fixed', fixed: 0 });
  t.is(again.selectPartitionFor({}), 0);
});

test.serial('a package name is resolved from process.cwd()', async (t) => {
  const registryUrl = pathToFileURL(path.resolve(here, '../../../lib/components/registry.js')).href;
  writeModule('pkgroot/node_modules/diaspora-test-validator/package.json',
    JSON.stringify({ name: 'diaspora-test-validator', type: 'module', main: 'index.js' }));
  writeModule('pkgroot/node_modules/diaspora-test-validator/index.js', `
    import { registerValidator } from ${JSON.stringify(registryUrl)};
    registerValidator('from-package', (config) => ({ validate() {}, metadata: () => config }));
  `);
  const previous = process.cwd();
  process.chdir(path.join(tmp, 'pkgroot'));
  try {
    const v = await validatorFromMetadata({ type: 'from-package:diaspora-test-validator' });
    t.deepEqual(v.metadata(), { type: 'from-package:diaspora-test-validator' });
  } finally {
    process.chdir(previous);
  }
});

test.serial('a module that cannot be imported is UNKNOWN_COMPONENT with the cause', async (t) => {
  const missing = await t.throwsAsync(validatorFromMetadata({ type: `ghost:${path.join(tmp, 'nope.mjs')}` }), {
    instanceOf: DiasporaError,
  });
  t.is(missing?.code, ErrorCode.UNKNOWN_COMPONENT);
  t.regex(missing?.message ?? '', /^Could not import module ".*nope\.mjs" for Validator "ghost": /);
  t.truthy(missing?.details.cause);
  const broken = writeModule('syntax-error.mjs', 'export default function (');
  const syntax = await t.throwsAsync(validatorFromMetadata({ type: `broken:${broken}` }), { instanceOf: DiasporaError });
  t.is(syntax?.code, ErrorCode.UNKNOWN_COMPONENT);
  const noPackage = await t.throwsAsync(validatorFromMetadata({ type: 'x:no-such-package-diaspora' }), {
    instanceOf: DiasporaError,
  });
  t.is(noPackage?.code, ErrorCode.UNKNOWN_COMPONENT);
});

test.serial('a module that neither registers the name nor exports a factory is UNKNOWN_COMPONENT', async (t) => {
  const err = await t.throwsAsync(validatorFromMetadata({ type: `not-there:${customModule}` }), {
    instanceOf: DiasporaError,
  });
  t.is(err?.code, ErrorCode.UNKNOWN_COMPONENT);
  t.regex(err?.message ?? '', /^Factory method not found for type not-there: /);
});

test.serial('metadata() persisted by one process rebuilds the same validator in another process', async (t) => {
  const v = await validatorFromMetadata({ type: `even-only:${customModule}`, field: 'k' });
  const persisted = JSON.stringify(v.metadata());
  const samples = [{ k: 2 }, { k: 3 }, {}, { k: 10 }];
  const out = execFileSync(process.execPath, [rebuildScript, persisted, ...samples.map((s) => JSON.stringify(s))], {
    encoding: 'utf8',
  });
  const child = JSON.parse(out) as { metadata: unknown; verdicts: boolean[] };
  t.deepEqual(child.metadata, v.metadata());
  t.deepEqual(child.verdicts, samples.map((s) => accepts(v, s)));
  t.deepEqual(child.verdicts, [true, false, false, true]);
});
