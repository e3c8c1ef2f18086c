// The forwarding daemon across restarts (SIGTERM and SIGKILL), run through the built CLI.
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { bytes, ctl, Daemon, jsonLines, waitFor } from './cli-helper.js';
import { tempDir } from '../../temp-dir.js';
import { writeForwardConfig } from './forward-config.js';

interface Line {
  partition: number;
  id: number;
  metadata: { batch: string; i: number };
  data: string;
}

function batch(name: string, n: number, size: number): string {
  return Array.from({ length: n }, (_, i) => JSON.stringify({ metadata: { batch: name, i }, data: bytes(name.length * 1000 + i, size + (i % 17)).toString('base64') })).join('\n') + '\n';
}

function expectedData(name: string, i: number, size: number): string {
  return bytes(name.length * 1000 + i, size + (i % 17)).toString('base64');
}

async function setup(t: Parameters<typeof tempDir>[0], pairs: Array<[string, string]>) {
  const dir = tempDir(t);
  const root = path.join(dir, 'root');
  const D = ['--driver.root_path', root];
  for (const [src, dst] of pairs) {
    await ctl(['topic', 'create', '--driver', 'files', ...D, '--name', src, '--topic.num_partitions', '2']);
    await ctl(['topic', 'create', '--driver', 'files', ...D, '--name', dst]);
  }
  const config = path.join(dir, 'forward.yaml');
  writeForwardConfig(config, { local: { type: 'files', options: { root_path: root } } },
    pairs.map(([src, dst]) => [`local/${src}`, `local/${dst}`]));
  const dump = async (topic: string) => jsonLines<Line>((await ctl(['dump', topic, ...D, '--json'])).stdout);
  return { dir, root, D, config, dump };
}

test('forward copies metadata and data, resumes across SIGTERM and SIGKILL restarts, and loses nothing', async (t) => {
  const { D, config, dump } = await setup(t, [['source', 'dest']]);
  const produce = async (name: string, n: number) => t.is((await ctl(['produce', 'source', ...D, '-q'], batch(name, n, 100))).code, 0);
  await produce('a', 50);
  let daemon = new Daemon(['forward', '--config', config, '--logging', 'error']);
  t.teardown(() => void daemon.stop('SIGKILL'));
  await waitFor('batch a in dest', async () => (await dump('dest')).length >= 50);
  let end = await daemon.stop('SIGTERM');
  t.is(end.code, 0, daemon.stderr);
  t.is((await dump('dest')).length, 50, 'a clean stop forwards every event exactly once');

  await produce('bb', 30); // while the daemon is down
  daemon = new Daemon(['forward', '--config', config, '--logging', 'error']);
  await produce('ccc', 2000); // while it runs
  await waitFor('forwarding in progress', async () => (await dump('dest')).length > 80);
  end = await daemon.stop('SIGKILL');
  t.is(end.signal, 'SIGKILL');

  await produce('dddd', 20);
  daemon = new Daemon(['forward', '--config', config, '--logging', 'error']);
  const keys = (lines: Line[]) => new Set(lines.map((l) => `${l.metadata.batch}/${l.metadata.i}`));
  await waitFor('every source event in dest', async () => keys(await dump('dest')).size === 2100, 60_000);
  end = await daemon.stop('SIGTERM');
  t.is(end.code, 0, daemon.stderr);

  const dest = await dump('dest');
  t.log(`dest holds ${dest.length} events for 2100 source events (repeats come from the SIGKILL)`);
  const source = await dump('source');
  t.is(keys(source).size, 2100);
  t.deepEqual([...keys(dest)].sort(), [...keys(source)].sort());
  for (const l of dest) t.is(l.data, expectedData(l.metadata.batch, l.metadata.i, 100), 'byte-identical data');
  // Per source partition, events arrive in order (a crash may repeat a few, never reorder or skip).
  const sourcePartition = new Map(source.map((l) => [`${l.metadata.batch}/${l.metadata.i}`, l]));
  for (const p of [0, 1]) {
    const ids = dest.map((l) => sourcePartition.get(`${l.metadata.batch}/${l.metadata.i}`)!).filter((s) => s.partition === p).map((s) => s.id);
    const firsts = ids.filter((id, k) => ids.indexOf(id) === k);
    t.deepEqual(firsts, [...firsts].sort((x, y) => x - y));
  }
  const consumers = jsonLines<{ name: string; partitions: Array<{ lag: number }> }>((await ctl(['consumers', 'source', ...D, '--json'])).stdout);
  t.is(consumers[0].name, 'local/source->local/dest');
  t.true(consumers[0].partitions.every((p) => p.lag === 0));
});

test('forward runs several policies; empty topics; SIGTERM exits 0', async (t) => {
  const { D, config, dump } = await setup(t, [['src-a', 'dst-a'], ['src-b', 'dst-b'], ['src-empty', 'dst-empty']]);
  await ctl(['produce', 'src-a', ...D, '--metadata-only', '-q'], '"msg_from_a"\n');
  await ctl(['produce', 'src-b', ...D, '--metadata-only', '-q'], '"msg_from_b"\n');
  const daemon = new Daemon(['forward', '--config', config]);
  t.teardown(() => void daemon.stop('SIGKILL'));
  await waitFor('both policies', async () => (await dump('dst-a')).length === 1 && (await dump('dst-b')).length === 1);
  t.deepEqual((await dump('dst-a')).map((l) => l.metadata), ['msg_from_a'] as never);
  t.deepEqual((await dump('dst-b')).map((l) => l.metadata), ['msg_from_b'] as never);
  const end = await daemon.stop('SIGTERM');
  t.is(end.code, 0, daemon.stderr);
  t.regex(daemon.stderr, /forwarding local\/src-empty -> local\/dst-empty/);
});

test('forward rejects bad configurations with a one-line error', async (t) => {
  const dir = tempDir(t);
  const cases: Array<[string, RegExp]> = [
    ['drivers: [unclosed', /Failed to parse YAML config/],
    ['forward: []\n', /Config missing 'drivers' section/],
    ['drivers:\n  x:\n    options: {}\nforward:\n  - from: x/a\n    to: x/b\n', /Driver 'x' missing required 'type' field/],
    ['drivers:\n  x:\n    type: memory\n', /Config missing 'forward' entries/],
    ['drivers:\n  x:\n    type: memory\nforward:\n  - from: x/a\n    to: xb\n', /Invalid topic reference 'xb'/],
    ['drivers:\n  x:\n    type: memory\nforward:\n  - from: y/a\n    to: x/b\n', /Unknown driver 'y'/],
    ['drivers:\n  x:\n    type: memory\nforward:\n  - from: x/a\n    to: x/b\n', /TOPIC_NOT_FOUND/],
  ];
  for (const [i, [yaml, message]] of cases.entries()) {
    const file = path.join(dir, `c${i}.yaml`);
    fs.writeFileSync(file, yaml);
    const r = await ctl(['forward', '--config', file]);
    t.is(r.code, 1, yaml);
    t.regex(r.stderr, message);
    t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  t.is((await ctl(['forward', '--config', path.join(dir, 'missing.yaml')])).code, 1);
});

test('forward starts nothing when a destination is missing or --trim-every-ms is bad, and says what to do', async (t) => {
  const { dir, D, config } = await setup(t, [['source', 'dest']]);
  // A second policy whose destination does not exist: the first one must not start either.
  const twoPolicies = path.join(dir, 'two.yaml');
  writeForwardConfig(twoPolicies, { local: { type: 'files', options: { root_path: D[1]! } } }, [['local/source', 'local/dest'], ['local/source', 'local/nowhere']]);
  const missing = await ctl(['forward', '--config', twoPolicies]);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /^diaspora-ctl: error: forward entry 1: destination local\/nowhere: topic "nowhere" does not exist .*create it first, e\.g\. diaspora-ctl topic create --name nowhere\) \[TOPIC_NOT_FOUND\]\n$/);
  t.deepEqual((await ctl(['topic', 'list', ...D])).stdout, 'dest\nsource\n', 'no topic was created');
  const badTrim = await ctl(['forward', '--config', config, '--trim-every-ms', '-5']);
  t.is(badTrim.code, 1);
  t.is(badTrim.stderr, 'diaspora-ctl: error: --trim-every-ms must be a non-negative integer, got "-5" [BAD_ARGUMENT]\n', 'refused before logging "forwarding"');
});
