// topic create/list/describe/delete/convert, consumers, errors and help, run through the built CLI.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { ctl, jsonLines } from './cli-helper.js';
import { tempDir } from '../../temp-dir.js';

// The C++ reference fixture, committed as fixtures/reference-cpp (dist/test/scripts/cli -> project root).
const REFERENCE_ROOT = fileURLToPath(new URL('../../../../fixtures/reference-cpp/root', import.meta.url));

test('--help exits 0 on every command; no arguments and unknown commands exit 1', async (t) => {
  for (const args of [[], ['topic'], ['bogus']]) {
    const r = await ctl(args);
    t.is(r.code, 1, args.join(' '));
  }
  const cmds = [[], ['topic'], ['topic', 'create'], ['topic', 'list'], ['topic', 'describe'], ['topic', 'delete'], ['topic', 'convert'],
    ['produce'], ['consume'], ['dump'], ['verify'], ['consumers'], ['consumers', 'reset'], ['fifo'], ['forward'], ['bench']];
  const runs = await Promise.all(cmds.map((c) => ctl([...c, '--help'])));
  runs.forEach((r, i) => {
    t.is(r.code, 0, cmds[i].join(' '));
    t.true(r.stdout.includes('Usage: diaspora-ctl'), cmds[i].join(' '));
  });
  const bench = await ctl(['bench', 'producer', '--help']);
  t.is(bench.code, 0);
  t.true(bench.stdout.includes('--num-events'));
});

test('topic create with dotted options, config files and components; topic list [-v]', async (t) => {
  const dir = tempDir(t);
  const root = path.join(dir, 'root');
  const R = ['--driver', 'files', '--driver.root_path', root];
  t.is((await ctl(['topic', 'create', ...R, '--name', 'test-topic-1'])).code, 0);
  t.true(fs.existsSync(path.join(root, 'test-topic-1')));
  t.is((await ctl(['topic', 'create', ...R, '--name', 'multi', '--topic.num_partitions', '4'])).code, 0);
  fs.writeFileSync(path.join(dir, 'd.json'), JSON.stringify({ root_path: path.join(dir, 'elsewhere') }));
  fs.writeFileSync(path.join(dir, 't.json'), JSON.stringify({ num_partitions: 2 }));
  // The command line wins over the config file (root), and the topic config file applies.
  const created = await ctl(['topic', 'create', '--driver', 'files', '--driver-config', path.join(dir, 'd.json'), '--driver.root_path', root,
    '--topic-config', path.join(dir, 't.json'), '--name', 'config-topic']);
  t.is(created.code, 0, created.stderr);
  // The reference ignores topic options it does not know (its example: --topic.config.option1); here they are refused.
  const unknown = await ctl(['topic', 'create', ...R, '--name', 'unknown-option', '--topic.config.option1', 'value1']);
  t.is(unknown.code, 1);
  t.regex(unknown.stderr, /Unknown key "config" in topic options \(valid: num_partitions, retention_ms, retention_bytes, retention_acked_by\) \[BAD_CONFIG\]/);
  t.false(fs.existsSync(path.join(dir, 'elsewhere', 'config-topic')));
  const schema = JSON.stringify({ type: 'object', required: ['x'] });
  fs.writeFileSync(path.join(dir, 'schema.json'), schema);
  const withValidator = await ctl(['topic', 'create', ...R, '--name', 'validated', '--validator', 'schema', '--validator.schema.type', 'object',
    '--validator.schema.required', 'x,']);
  t.is(withValidator.code, 0, withValidator.stderr);

  const list = await ctl(['topic', 'list', ...R]);
  t.is(list.code, 0);
  t.deepEqual(list.stdout.trim().split('\n'), ['config-topic', 'multi', 'test-topic-1', 'validated']);
  const verbose = await ctl(['topic', 'list', ...R, '-v']);
  const line = verbose.stdout.split('\n').find((l) => l.startsWith('multi '))!;
  t.is(JSON.parse(line.slice('multi '.length)).num_partitions, 4);
  const cfgLine = verbose.stdout.split('\n').find((l) => l.startsWith('config-topic '))!;
  t.is(JSON.parse(cfgLine.slice('config-topic '.length)).num_partitions, 2);
  const valLine = verbose.stdout.split('\n').find((l) => l.startsWith('validated '))!;
  t.is(JSON.parse(valLine.slice('validated '.length)).validator.type, 'schema');

  // The validator built from dotted options rejects metadata without "x", with the line number.
  const bad = await ctl(['produce', 'validated', '--driver.root_path', root, '--metadata-only'], '{"x":1}\n{"y":2}\n');
  t.is(bad.code, 1);
  t.regex(bad.stderr, /^diaspora-ctl: error: stdin:2: .*\[INVALID_METADATA\]\n$/);
  t.is(jsonLines(bad.stdout).length, 1, 'the valid first line was committed and reported');

  // A root that does not exist (a mistyped --driver.root_path) is refused, and not created, by every command but
  // topic create: before, it was created and listed as empty (and `verify` found "no problems" in it).
  for (const args of [['topic', 'list'], ['verify'], ['topic', 'describe', 'x'], ['consume', 'x']]) {
    const missing = await ctl([...args, '--driver', 'files', '--driver.root_path', path.join(dir, 'none')]);
    t.is(missing.code, 1, args.join(' '));
    t.regex(missing.stderr, /^diaspora-ctl: error: root folder .*none does not exist .*\[BAD_ARGUMENT\]\n$/, args.join(' '));
    t.is(missing.stdout, '');
    t.false(fs.existsSync(path.join(dir, 'none')), `${args.join(' ')} did not create it`);
  }
  const made = await ctl(['topic', 'create', '--name', 'x', '--driver.root_path', path.join(dir, 'none')]);
  t.is(made.code, 0, made.stderr);
  const listed = await ctl(['topic', 'list', '--driver.root_path', path.join(dir, 'none')]);
  t.is(listed.stdout, 'x\n');
});

test('errors: one line on stderr, non-zero exit, stack only with --debug', async (t) => {
  const root = path.join(tempDir(t), 'root');
  const R = ['--driver', 'files', '--driver.root_path', root];
  t.is((await ctl(['topic', 'create', ...R, '--name', 'dup'])).code, 0);
  const dup = await ctl(['topic', 'create', ...R, '--name', 'dup']);
  t.is(dup.code, 1);
  t.regex(dup.stderr, /^diaspora-ctl: error: .*\[TOPIC_EXISTS\]\n$/);
  t.is((await ctl(['topic', 'create', '--name', 'x', '--driver.root_path', root])).code, 0, 'no --driver: files by default');
  t.not((await ctl(['topic', 'create', '--driver', 'files', '--driver.root_path', root])).code, 0, 'missing --name');
  t.not((await ctl(['topic', 'create', ...R, '--name', 'y', '--topic.num_partitions', '.'])).code, 0);
  t.not((await ctl(['topic', 'create', ...R, '--name', 'y', '--topic.num_partitions'])).code, 0, 'dotted flag without value');
  t.not((await ctl(['topic', 'create', ...R, '--name', 'y', '--driver-config', path.join(root, 'missing.json')])).code, 0);
  t.not((await ctl(['topic', 'create', ...R, '--name', 'y', '--driver.no_such_option', '1'])).code, 0);
  const missing = await ctl(['consume', 'nope', '--name', 'c', '--driver.root_path', root]);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /^diaspora-ctl: error: .*\[TOPIC_NOT_FOUND\]\n$/);
  const debug = await ctl(['consume', 'nope', '--name', 'c', '--driver.root_path', root, '--debug']);
  t.is(debug.code, 1);
  t.true(debug.stderr.split('\n').length > 3);
  t.regex(debug.stderr, /\n\s+at /);
  const badFrom = await ctl(['consume', 'dup', '--name', 'c', '--driver.root_path', root, '--from', 'not-a-time']);
  t.is(badFrom.code, 1);
  t.regex(badFrom.stderr, /invalid position/);
});

test('describe, consumers list/reset and delete', async (t) => {
  const root = path.join(tempDir(t), 'root');
  const D = ['--driver.root_path', root];
  await ctl(['topic', 'create', '--driver', 'files', ...D, '--name', 'd', '--topic.num_partitions', '2']);
  const input = Array.from({ length: 10 }, (_, i) => JSON.stringify({ metadata: { i }, data: Buffer.alloc(i, i).toString('base64') })).join('\n');
  t.is((await ctl(['produce', 'd', ...D, '-q'], input)).code, 0);
  const first = await ctl(['consume', 'd', '--name', 'reader', ...D, '--max', '3']);
  t.is(first.code, 0);
  t.is(jsonLines(first.stdout).length, 3);
  // Lag of the partitions the reader acknowledged (5 events each): those it printed, up to the last one printed.
  const lastPrinted = new Map<number, number>();
  for (const e of jsonLines<{ partition: number; id: number }>(first.stdout)) lastPrinted.set(e.partition, Math.max(e.id, lastPrinted.get(e.partition) ?? -1));
  const expectedLag = [...lastPrinted.values()].reduce((sum, last) => sum + 5 - (last + 1), 0);
  const desc = JSON.parse((await ctl(['topic', 'describe', 'd', ...D, '--json'])).stdout);
  t.is(desc.partitions.length, 2);
  t.deepEqual(desc.partitions.map((p: { events: number }) => p.events), [5, 5]);
  t.is(desc.partitions[0].dataBytes + desc.partitions[1].dataBytes, 45);
  t.true(desc.partitions.every((p: { segments: number; firstTimestamp: number }) => p.segments >= 1 && p.firstTimestamp > 0));
  const reader = desc.consumers.find((c: { name: string }) => c.name === 'reader');
  t.deepEqual(reader.partitions.map((p: { lag: number }) => p.lag).reduce((a: number, b: number) => a + b), expectedLag);
  const text = await ctl(['topic', 'describe', 'd', ...D]);
  t.regex(text.stdout, /events: 10, bytes: \d+/);
  t.regex(text.stdout, /reader/);

  const listed = jsonLines<{ name: string; partitions: Array<{ lag: number; lastAcknowledged: number | null }> }>((await ctl(['consumers', 'd', ...D, '--json'])).stdout);
  t.deepEqual(listed.map((c) => c.name), ['reader']);
  t.is(listed[0].partitions.reduce((a, p) => a + p.lag, 0), expectedLag);
  t.is((await ctl(['consumers', 'reset', 'd', 'reader', '--to', 'latest', ...D])).code, 0);
  t.is((await ctl(['consume', 'd', '--name', 'reader', ...D])).stdout, '');
  t.is((await ctl(['consumers', 'reset', 'd', 'reader', '--to', '2', '--partition', '1', ...D])).code, 0);
  const after = jsonLines<{ partition: number; id: number }>((await ctl(['consume', 'd', '--name', 'reader', ...D])).stdout);
  t.deepEqual(after.map((e) => [e.partition, e.id]), [[1, 2], [1, 3], [1, 4]]);
  t.is((await ctl(['consumers', 'reset', 'd', 'reader', '--to', 'earliest', ...D])).code, 0);
  t.is(jsonLines((await ctl(['consume', 'd', '--name', 'reader', ...D])).stdout).length, 10);

  t.is((await ctl(['topic', 'delete', 'd', ...D])).code, 0);
  t.is((await ctl(['topic', 'list', '--driver', 'files', ...D])).stdout, '');
  t.is((await ctl(['topic', 'delete', 'd', ...D])).code, 1);
});

test('reference-format topics: list, describe, consume, dump, verify, convert to native and back', async (t) => {
  const root = path.join(tempDir(t), 'root');
  fs.cpSync(REFERENCE_ROOT, root, { recursive: true });
  const D = ['--driver.root_path', root];
  const list = await ctl(['topic', 'list', '--driver', 'files', ...D, '-v']);
  t.deepEqual(list.stdout.trim().split('\n').map((l) => l.split(' ')[0]), ['collisions', 'empty', 'strings']);
  t.true(list.stdout.includes('"format":"reference"'));
  const desc = JSON.parse((await ctl(['topic', 'describe', 'collisions', ...D, '--json'])).stdout);
  t.deepEqual(desc.partitions.map((p: { events: number }) => p.events), [16, 24]);

  const expected = JSON.parse(fs.readFileSync(path.join(REFERENCE_ROOT, '..', 'producer-log.json'), 'utf8')) as Array<{
    topic: string; predicted_partition: number; returned_id: number; metadata: unknown; data_size: number;
  }>;
  const dumped = jsonLines<{ partition: number; id: number; metadata: unknown; data: string }>((await ctl(['dump', 'collisions', ...D, '--json'])).stdout);
  const want = expected.filter((e) => e.topic === 'collisions');
  t.is(dumped.length, want.length);
  for (const w of want) {
    const got = dumped.find((d) => d.partition === w.predicted_partition && d.id === w.returned_id)!;
    t.deepEqual(got.metadata, w.metadata);
    t.is(Buffer.from(got.data, 'base64').length, w.data_size);
  }
  const consumed = jsonLines<{ metadata: unknown }>((await ctl(['consume', 'strings', '--name', 'c', ...D, '--no-data'])).stdout);
  t.deepEqual(consumed.slice(0, 5).map((e) => e.metadata), ['hello-0', 'hello-1', 'hello-2', 'hello-3', 'hello-4']);
  const v = await ctl(['verify', ...D]);
  t.is(v.code, 0, v.stdout + v.stderr);

  t.is((await ctl(['topic', 'convert', 'collisions', 'native-copy', ...D])).code, 0);
  t.is((await ctl(['topic', 'convert', 'native-copy', 'reference-copy', '--to', 'reference', ...D])).code, 0);
  const info = new Map((await ctl(['topic', 'list', '--driver', 'files', ...D, '-v'])).stdout.trim().split('\n').map((l) => {
    const i = l.indexOf(' ');
    return [l.slice(0, i), JSON.parse(l.slice(i + 1)) as { format: string }];
  }));
  t.is(info.get('native-copy')!.format, 'native');
  t.is(info.get('reference-copy')!.format, 'reference');
  const noTime = (rows: Array<Record<string, unknown>>) => rows.map(({ timestamp: _t, ...rest }) => rest);
  const nativeDump = noTime(jsonLines((await ctl(['dump', 'native-copy', ...D, '--json'])).stdout));
  const backDump = noTime(jsonLines((await ctl(['dump', 'reference-copy', ...D, '--json'])).stdout));
  t.deepEqual(nativeDump, noTime(dumped));
  t.deepEqual(backDump, nativeDump);
  t.is((await ctl(['verify', 'native-copy', 'reference-copy', ...D])).code, 0);
  // The reference files themselves were not touched by reading them.
  for (const f of ['index', 'metadata', 'data']) {
    const p = path.join('collisions', 'partitions', '00000001', f);
    t.true(fs.readFileSync(path.join(root, p)).equals(fs.readFileSync(path.join(REFERENCE_ROOT, p))));
  }
});

test('consumers reset refuses a consumer that does not exist unless --create; consumers delete of a missing one fails', async (t) => {
  const D = ['--driver.root_path', path.join(tempDir(t), 'root')];
  t.is((await ctl(['topic', 'create', ...D, '--name', 'T', '--topic.num_partitions', '2'])).code, 0);
  t.is((await ctl(['produce', 'T', ...D, '-q'], '{"metadata":1}\n{"metadata":2}\n')).code, 0);
  t.is((await ctl(['consume', 'T', '--name', 'audit', ...D, '--max', '1'])).code, 0);
  const typo = await ctl(['consumers', 'reset', 'T', 'audti', '--to', 'earliest', ...D]);
  t.is(typo.code, 1);
  t.is(typo.stderr, "diaspora-ctl: error: Consumer 'audti' of 'T' does not exist (--create makes it, starting at --to) [BAD_ARGUMENT]\n");
  const names = async (): Promise<string[]> => jsonLines<{ name: string }>((await ctl(['consumers', 'T', ...D, '--json'])).stdout).map((c) => c.name);
  t.deepEqual(await names(), ['audit'], 'the misspelt name made no consumer');
  t.is((await ctl(['consumers', 'reset', 'T', 'audit', '--to', 'earliest', ...D])).code, 0, 'an existing one is moved');
  const created = await ctl(['consumers', 'reset', 'T', 'fresh', '--to', 'latest', '--create', ...D]);
  t.is(created.code, 0, created.stderr);
  t.deepEqual(await names(), ['audit', 'fresh']);
  t.is((await ctl(['consume', 'T', '--name', 'fresh', ...D])).stdout, '', '--create made it at --to');
  const missing = await ctl(['consumers', 'delete', 'T', 'nobody', ...D]);
  t.is(missing.code, 1);
  t.is(missing.stderr, "diaspora-ctl: error: Consumer 'nobody' of 'T' does not exist [BAD_ARGUMENT]\n");
});

test('consumers T and topic describe T list a consumer that has no position yet, as --json does', async (t) => {
  const D = ['--driver.root_path', path.join(tempDir(t), 'root')];
  t.is((await ctl(['topic', 'create', ...D, '--name', 'T', '--topic.num_partitions', '2'])).code, 0);
  t.is((await ctl(['consume', 'T', '--name', 'early', ...D])).code, 0); // an empty topic: nothing acknowledged
  t.deepEqual(jsonLines((await ctl(['consumers', 'T', ...D, '--json'])).stdout), [{ name: 'early', partitions: [] }]);
  const text = await ctl(['consumers', 'T', ...D]);
  t.is(text.code, 0, text.stderr);
  t.deepEqual(text.stdout.trim().split('\n').map((l) => l.split(/\s+/)), [
    ['consumer', 'partition', 'last', 'acknowledged', 'end', 'id', 'lag'],
    ['early', '-', '-', '-', '-'],
  ]);
  const described = await ctl(['topic', 'describe', 'T', ...D]);
  t.regex(described.stdout, /\nearly +- +- +- +-\n/);
  t.notRegex(described.stdout, /no consumers/);
});
