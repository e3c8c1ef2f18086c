// The package as users get it: `npm pack` into a temp folder, unpacked as node_modules/diaspora-stream beside links
// to this checkout's installed dependencies (an offline install of the tarball), then imported, required and
// type-checked through the package name. Also pins the export lists, so that a change to the surface is deliberate.
import test from 'ava';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ownedTempDir } from '../temp-dir.js';

const run = promisify(execFile);
const repo = fileURLToPath(new URL('../../../', import.meta.url)); // dist/test/package -> the checkout
const tsc = path.join(repo, 'node_modules', 'typescript', 'bin', 'tsc');

interface Packed {
  dir: string;
  files: string[];
  size: number;
}

let packedPromise: Promise<Packed> | undefined;
// Made by the first test that needs it (hooks cannot be added once tests run): removed after the file.
let packDir: ReturnType<typeof ownedTempDir> | undefined;
test.after.always(() => packDir?.remove());

/** Packs once per test file (scripts ignored: `prepare` would rebuild dist under the running tests). */
function packed(): Promise<Packed> {
  return (packedPromise ??= (async () => {
    packDir = ownedTempDir('diaspora-pack-');
    const dir = packDir.path;
    const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: repo, maxBuffer: 16 << 20 });
    const [info] = JSON.parse(stdout) as Array<{ filename: string; size: number; files: Array<{ path: string }> }>;
    const modules = path.join(dir, 'node_modules');
    fs.mkdirSync(path.join(modules, 'diaspora-stream'), { recursive: true });
    await run('tar', ['xzf', path.join(dir, info!.filename), '-C', path.join(modules, 'diaspora-stream'), '--strip-components=1']);
    // The installed dependencies, as npm would have put them beside the package.
    for (const entry of fs.readdirSync(path.join(repo, 'node_modules'))) {
      if (entry === 'diaspora-stream' || entry.startsWith('.')) continue;
      fs.symlinkSync(path.join(repo, 'node_modules', entry), path.join(modules, entry));
    }
    return { dir, files: info!.files.map((f) => f.path), size: info!.size };
  })());
}

async function node(cwd: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, args, { cwd, maxBuffer: 16 << 20 });
}

test('the tarball ships the compiled library, typings, CLI, docs and LICENSE, and nothing from test/ or .ci/', async (t) => {
  const { dir, files, size } = await packed();
  for (const f of files) {
    t.false(/^(dist\/)?test\/|^\.ci\/|\.map$|^lib\/|^storage\/|\.test\.js$/.test(f), `unexpected file in the package: ${f}`);
  }
  for (const needed of [
    'package.json',
    'README.md',
    'LICENSE',
    'dist/lib/index.js',
    'dist/lib/index.d.ts',
    'dist/lib/driver-spi.d.ts',
    'dist/lib/testing/index.d.ts',
    'dist/scripts/cli/diaspora-ctl.js',
    'docs/api.md',
    'docs/packaging.md',
  ]) {
    t.true(files.includes(needed), `missing from the package: ${needed}`);
  }
  t.true(files.length < 400, `${files.length} files`);
  // No source maps are shipped, so no shipped file may point at one (a debugger or bundler would look for it).
  const pointing = files.filter((f) => /\.(js|d\.ts)$/.test(f) && /\/\/# sourceMappingURL=/.test(fs.readFileSync(path.join(dir, 'node_modules', 'diaspora-stream', f), 'utf8')));
  t.deepEqual(pointing, [], 'files ending with a sourceMappingURL comment');
  // The license package.json declares, in full.
  const license = fs.readFileSync(path.join(dir, 'node_modules', 'diaspora-stream', 'LICENSE'), 'utf8');
  t.regex(license, /^\s*Apache License\s+Version 2\.0, January 2004/);
  t.regex(license, /END OF TERMS AND CONDITIONS/);
  t.true(size < 1_000_000, `${size} bytes packed`);
});

test('every package the shipped files import is a declared dependency (a linked or strict install has no others)', async (t) => {
  const { dir, files } = await packed();
  const root = path.join(dir, 'node_modules', 'diaspora-stream');
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { name: string; dependencies: Record<string, string> };
  const { builtinModules } = await import('node:module');
  const imported = new Map<string, string>(); // package -> a file importing it
  for (const f of files.filter((f) => /\.(js|d\.ts)$/.test(f))) {
    const text = fs.readFileSync(path.join(root, f), 'utf8');
    // `import ... from 'x'` / `export ... from 'x'` (over several lines), `import('x')`, `import 'x'`.
    const statements = /^\s*(?:import|export)\b[^;'"]*?\bfrom\s*(['"])([^'"\s]+)\1|\bimport\s*\(\s*(['"])([^'"\s]+)\3\s*\)|^\s*import\s*(['"])([^'"\s]+)\5/gm;
    for (const m of text.matchAll(statements)) {
      const spec = (m[2] ?? m[4] ?? m[6])!;
      if (spec.startsWith('.') || spec.startsWith('node:') || builtinModules.includes(spec)) continue;
      const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
      if (!imported.has(name)) imported.set(name, f);
    }
  }
  t.true(imported.has('@nats-io/nats-core'), 'the scan sees the nats driver imports');
  const undeclared = [...imported].filter(([name]) => name !== pkg.name && pkg.dependencies[name] === undefined).map(([name, f]) => `${name} (${f})`);
  t.deepEqual(undeclared, []);
});

const MAIN_EXPORTS = [
  'BatchSize', 'Consumer', 'DataDescriptor', 'DataView', 'DefaultPartitionSelector', 'DefaultSerializer',
  'DefaultValidator', 'DiasporaError', 'Driver', 'ErrorCode', 'Event', 'EventBatch', 'EventbridgeValidator', 'Future',
  'InvalidMetadata', 'Ordering', 'Producer', 'SchemaSerializer', 'SchemaValidator', 'StopEventProcessor',
  'ThreadPool', 'TopicHandle', 'bufferAllocator', 'compileEventbridgePattern', 'defaultThreadPool',
  'formatRecovery',
  'fullDataSelector', 'makeThreadPool', 'partitionSelectorFromMetadata', 'registerDriver',
  'registerPartitionSelector', 'registerSerializer', 'registerValidator', 'selectData', 'serializerFromMetadata',
  'validatorFromMetadata',
];
const DRIVER_EXPORTS = ['DiasporaError', 'ErrorCode', 'defineConformanceSuite', 'registerDriver', 'toDiasporaError'];
const TESTING_EXPORTS = ['fixtureDriver', 'formatEventLine', 'loadEventLines', 'parseEventLine', 'pushableMetadata', 'tempDriver'];

test('export lists of every entry, imported by package name (snapshot: change it on purpose)', async (t) => {
  const { dir } = await packed();
  const script = `
    const out = {};
    for (const entry of ['diaspora-stream', 'diaspora-stream/driver', 'diaspora-stream/testing']) {
      out[entry] = Object.keys(await import(entry)).sort();
    }
    console.log(JSON.stringify(out));`;
  const { stdout } = await node(dir, ['--input-type=module', '-e', script]);
  t.deepEqual(JSON.parse(stdout), {
    'diaspora-stream': MAIN_EXPORTS,
    'diaspora-stream/driver': DRIVER_EXPORTS,
    'diaspora-stream/testing': TESTING_EXPORTS,
  });
  // A path the exports map does not list stays private.
  const hidden = await t.throwsAsync(node(dir, ['--input-type=module', '-e', "await import('diaspora-stream/dist/lib/consumer/consumer.js')"]));
  t.regex(hidden!.message, /ERR_PACKAGE_PATH_NOT_EXPORTED/);
});

test('require() serves the same module as import (Node >= 20.19 loads ES modules synchronously)', async (t) => {
  const { dir } = await packed();
  const { stdout } = await node(dir, ['-e', "const m = require('diaspora-stream'); console.log(JSON.stringify(Object.keys(m).sort()), typeof m.Driver.create)"]);
  t.is(stdout.trim(), `${JSON.stringify(MAIN_EXPORTS)} function`);
});

test('engines names the first Node versions that have every API used (zlib.crc32: 20.15, 22.2)', async (t) => {
  const { dir } = await packed();
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'node_modules', 'diaspora-stream', 'package.json'), 'utf8')) as { engines: { node: string } };
  t.is(pkg.engines.node, '^20.15.0 || >=22.2.0');
});

/** Copies a source folder of this checkout next to the installed package, as a user project. */
function userProject(packedDir: string, from: string, name: string): string {
  const project = path.join(packedDir, name);
  fs.cpSync(path.join(repo, from), project, { recursive: true });
  return project;
}

test('type-level checks of the typings (strict, skipLibCheck off): generics, stripped internals, the /driver entry', async (t) => {
  const { dir } = await packed();
  const project = userProject(dir, 'test/package/typings', 'typings-check');
  const r = await run(process.execPath, [tsc, '-p', project], { cwd: project }).catch((err: { stdout: string }) => err);
  t.is(r.stdout.trim(), '', r.stdout);
});

test('the typed consumer example compiles with strict settings against the packed typings, and runs', async (t) => {
  const { dir } = await packed();
  const project = userProject(dir, 'scripts/examples/typed-consumer', 'typed-consumer');
  const r = await run(process.execPath, [tsc, '-p', project], { cwd: project }).catch((err: { stdout: string }) => err);
  t.is(r.stdout.trim(), '', r.stdout);
  const root = path.join(dir, 'data');
  const { stdout } = await node(project, ['out/app.js', root]);
  // 12 readings 20..31 over sensors s0..s2; alarms (every 5th: 0, 5, 10) carry 16 bytes of samples.
  t.deepEqual(JSON.parse(stdout), { means: { s0: 24.5, s1: 25.5, s2: 26.5 }, samplesRead: 48 });
});
