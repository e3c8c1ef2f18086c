// One consistent command line: every command defaults to the files driver, help names every built-in driver,
// `consume` reads anonymously without --name, and errors say where once.
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { ctl, jsonLines } from './cli-helper.js';
import { tempDir } from '../../temp-dir.js';

async function rootWithTopic(t: Parameters<typeof tempDir>[0], events: number): Promise<string[]> {
  const D = ['--driver.root_path', path.join(tempDir(t), 'root')];
  const created = await ctl(['topic', 'create', ...D, '--name', 'T', '--topic.num_partitions', '2']); // no --driver
  if (created.code !== 0) throw new Error(created.stderr);
  const lines = Array.from({ length: events }, (_, i) => JSON.stringify({ metadata: { i }, data: Buffer.alloc(300, i).toString('base64') }));
  const produced = await ctl(['produce', 'T', ...D], lines.join('\n') + '\n');
  if (produced.code !== 0) throw new Error(produced.stderr);
  return D;
}

test('topic create, topic list and fifo need no --driver: files is the default everywhere', async (t) => {
  const D = await rootWithTopic(t, 1);
  const list = await ctl(['topic', 'list', ...D]);
  t.is(list.code, 0, list.stderr);
  t.regex(list.stdout, /\bT\b/);
  for (const command of [['topic', 'create'], ['topic', 'list'], ['fifo'], ['consume'], ['produce'], ['verify']]) {
    const help = await ctl([...command, '--help']);
    t.is(help.code, 0, command.join(' '));
    t.regex(help.stdout.replace(/\s+/g, " "), /--driver <name> driver type \(files, memory, nats, or name:module\) \(default: "files"\)/, command.join(" "));
  }
});

test('consume without --name is an anonymous read: everything from the earliest event, nothing acknowledged or claimed', async (t) => {
  const D = await rootWithTopic(t, 5);
  for (let round = 0; round < 2; round++) {
    const r = await ctl(['consume', 'T', ...D, '--no-data']);
    t.is(r.code, 0, r.stderr);
    t.deepEqual(jsonLines<{ metadata: { i: number } }>(r.stdout).map((l) => l.metadata.i).sort(), [0, 1, 2, 3, 4], `round ${round}`);
  }
  const consumers = await ctl(['consumers', 'T', ...D, '--json']);
  t.is(consumers.code, 0, consumers.stderr);
  t.deepEqual(jsonLines(consumers.stdout), [], 'no consumer position was written');
  // A named consumer still resumes where it stopped.
  t.is(jsonLines((await ctl(['consume', 'T', ...D, '--name', 'n', '--max', '2'])).stdout).length, 2);
  t.is(jsonLines((await ctl(['consume', 'T', ...D, '--name', 'n'])).stdout).length, 3);
  // Options that only make sense for a named consumer are refused, not ignored.
  for (const args of [['--standby'], ['--from', 'committed']]) {
    const r = await ctl(['consume', 'T', ...D, ...args]);
    t.is(r.code, 1, args.join(' '));
    t.regex(r.stderr, /needs --name/);
  }
});

test('a corruption error names its file and offset once', async (t) => {
  const D = await rootWithTopic(t, 1);
  const root = D[1]!;
  const dataFile = path.join(root, 'T', 'partitions', '00000000', '00000000000000000000.data');
  const fd = fs.openSync(dataFile, 'r+');
  fs.writeSync(fd, Buffer.from('X'), 0, 1, 10);
  fs.closeSync(fd);
  const r = await ctl(['consume', 'T', ...D]);
  t.is(r.code, 1);
  t.regex(r.stderr, /\[CORRUPTION\]/);
  t.is(r.stderr.split(dataFile).length - 1, 1, r.stderr);
});

test('every command refuses arguments it does not take, before doing anything: `topic delete a b` deletes neither', async (t) => {
  const D = await rootWithTopic(t, 1);
  t.is((await ctl(['topic', 'create', ...D, '--name', 'U'])).code, 0);
  for (const args of [
    ['topic', 'delete', 'T', 'U'],
    ['topic', 'describe', 'T', 'U'],
    ['topic', 'list', 'T'],
    ['produce', 'T', 'U'],
    ['consume', 'T', 'U'],
    ['dump', 'T', 'U'],
    ['consumers', 'T', 'U'],
    ['consumers', 'delete', 'T', 'c', 'U'],
    ['consumers', 'reset', 'T', 'c', 'U', '--to', 'earliest'],
  ]) {
    const r = await ctl([...args, ...D], '{"metadata":1}\n');
    t.is(r.code, 1, args.join(' '));
    t.regex(r.stderr, /^diaspora-ctl: error: too many arguments for '[a-z]+'\. Expected \d arguments? but got \d+\. \[BAD_ARGUMENT\]\n$/, args.join(' '));
    t.is(r.stdout, '', args.join(' '));
  }
  t.deepEqual((await ctl(['topic', 'list', ...D])).stdout, 'T\nU\n');
  t.deepEqual(jsonLines<{ id: number }>((await ctl(['consume', 'T', ...D])).stdout).map((e) => e.id), [0], 'nothing was produced');
});

test('command-line mistakes found by the parser come out like every other error: prefix, [BAD_ARGUMENT], exit 1', async (t) => {
  const cases: Array<[string[], string]> = [
    [['topic', 'list', '--bogus'], "unknown option '--bogus'"],
    [['topic', 'lst'], "unknown command 'lst' (Did you mean list?)"],
    [['consume'], "missing required argument 'topic'"],
    [['consumers', 'reset', 'T', 'c'], "required option '--to <position>' not specified"],
    [['dump', 'T', '--max'], "option '--max <n>' argument missing"],
  ];
  for (const [args, message] of cases) {
    const r = await ctl(args);
    t.is(r.code, 1, args.join(' '));
    t.is(r.stderr, `diaspora-ctl: error: ${message} [BAD_ARGUMENT]\n`, args.join(' '));
  }
  // Help and version are not errors.
  const version = await ctl(['--version']);
  t.is(version.code, 0);
  t.regex(version.stdout, /^\d+\.\d+\.\d+\n$/);
  t.is(version.stderr, '');
});

test('--from and --to take ids and ISO 8601 date/times only: `--from 1.5` or `--to -3` is refused, not a date of 2001', async (t) => {
  const D = await rootWithTopic(t, 3);
  for (const args of [['consume', 'T', '--from', '1.5'], ['consume', 'T', '--name', 'c', '--from', '5 '], ['dump', 'T', '--from', '-3'],
    ['consumers', 'reset', 'T', 'c', '--to', '-3']]) {
    const r = await ctl([...args, ...D]);
    t.is(r.code, 1, args.join(' '));
    t.regex(r.stderr, /^diaspora-ctl: error: --(from|to): invalid position ".*": expected .* \[BAD_ARGUMENT\]\n$/, args.join(' '));
    t.is(r.stdout, '', args.join(' '));
  }
  t.deepEqual(jsonLines((await ctl(['consumers', 'T', ...D, '--json'])).stdout), [], 'no consumer was made or moved');
  const dated = await ctl(['consume', 'T', '--from', '2000-01-01T00:00:00Z', '--no-data', ...D]);
  t.is(dated.code, 0, dated.stderr);
  t.is(jsonLines(dated.stdout).length, 3);
});

test('an option that needs a value followed by another option is refused, not taken as its value', async (t) => {
  const D = await rootWithTopic(t, 1);
  for (const [args, option, next] of [
    [['consume', 'T', '--name', '--max', '1'], '--name', '--max'],
    [['consume', 'T', '--name', 'c', '--from', '--no-data'], '--from', '--no-data'],
    [['produce', 'T', '--partition', '--metadata-only'], '--partition', '--metadata-only'],
  ] as Array<[string[], string, string]>) {
    const r = await ctl([...args, ...D], '{"metadata":"x"}\n');
    t.is(r.code, 1, args.join(' '));
    t.regex(r.stderr, new RegExp(`^diaspora-ctl: error: option '${option}' needs a value, but is followed by the option '${next}'`), args.join(' '));
  }
  t.deepEqual(jsonLines((await ctl(['consumers', 'T', '--json', ...D])).stdout), [], 'no consumer named "--max" was made');
  t.is(jsonLines((await ctl(['consume', 'T', '--no-data', ...D])).stdout).length, 1, 'nothing more was produced');
  // A value that starts with "--", given with "=": taken as it is.
  const named = await ctl(['consume', 'T', '--name=--odd', '--max', '1', ...D]);
  t.is(named.code, 0, named.stderr);
  t.deepEqual(jsonLines<{ name: string }>((await ctl(['consumers', 'T', '--json', ...D])).stdout).map((c) => c.name), ['--odd']);
});

test('an option that takes one value given twice is refused before anything is done (the last one silently won)', async (t) => {
  const D = await rootWithTopic(t, 2);
  t.is((await ctl(['consume', 'T', '--name', 'c', '--max', '1', ...D])).code, 0);
  for (const [args, option] of [
    [['topic', 'create', '--name', 'X', '--name', 'Y'], '--name'],
    [['consumers', 'reset', 'T', 'c', '--to', 'earliest', '--to', 'latest'], '--to'],
    [['consume', 'T', '--name', 'c', '--name', 'd'], '--name'],
    [['consume', 'T', '--name', 'c', '--from', 'earliest', '--from=latest'], '--from'],
    [['produce', 'T', '--partition', '0', '--partition', '1'], '--partition'],
    [['dump', 'T', '--max', '1', '--max', '2'], '--max'],
  ] as Array<[string[], string]>) {
    const r = await ctl([...args, ...D], '{"metadata":"x"}\n');
    t.is(r.code, 1, args.join(' '));
    t.regex(r.stderr, new RegExp(`^diaspora-ctl: error: option '${option}' given twice \\(".*", then ".*"\\): give it once \\[BAD_ARGUMENT\\]\\n$`), args.join(' '));
    t.is(r.stdout, '', args.join(' '));
  }
  t.is((await ctl(['topic', 'list', ...D])).stdout, 'T\n', 'neither X nor Y was created');
  const consumers = jsonLines<{ name: string; partitions: Array<{ lastAcknowledged: number | null }> }>((await ctl(['consumers', 'T', '--json', ...D])).stdout);
  t.deepEqual(consumers.map((c) => c.name), ['c'], 'no consumer d');
  t.is(jsonLines((await ctl(['consume', 'T', '--no-data', ...D])).stdout).length, 2, 'nothing was produced');
  // Options that take several values still add up; flags may be repeated.
  t.is((await ctl(['consume', 'T', '--partition', '0', '--partition', '1', '--no-data', '--no-data', ...D])).code, 0);
});
