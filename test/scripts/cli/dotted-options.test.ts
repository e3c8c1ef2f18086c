import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { extractDottedOptions, mergePatch, parseDottedValue } from '../../../scripts/cli/dotted-options.js';
import { CliError } from '../../../scripts/cli/errors.js';
import { ctl } from './cli-helper.js';
import { tempDir } from '../../temp-dir.js';

test('values: numbers, comma lists (trailing empty item dropped), strings; no booleans', (t) => {
  t.is(parseDottedValue('42'), 42);
  t.is(parseDottedValue('-3.5'), -3.5);
  t.is(parseDottedValue('+7'), 7);
  t.deepEqual(parseDottedValue('a,b,1'), ['a', 'b', 1]);
  t.deepEqual(parseDottedValue('a,b,'), ['a', 'b']);
  t.is(parseDottedValue('true'), 'true');
  t.is(parseDottedValue('1.2.3'), '1.2.3');
  t.is(parseDottedValue('-'), '-');
  t.throws(() => parseDottedValue('.'), { instanceOf: CliError });
});

test('dotted keys nest, the last value wins, other arguments stay in order', (t) => {
  const { rest, options } = extractDottedOptions([
    'topic', 'create', '--topic.config.option1', 'v1', '--name', 'x', '--topic.config.option2=v2',
    '--driver.root_path', '/r', '--topic.num_partitions', '2', '--topic.num_partitions', '4', '--validator.schema.type', 'object',
  ]);
  t.deepEqual(rest, ['topic', 'create', '--name', 'x']);
  t.deepEqual(options.topic, { config: { option1: 'v1', option2: 'v2' }, num_partitions: 4 });
  t.deepEqual(options.driver, { root_path: '/r' });
  t.deepEqual(options.validator, { schema: { type: 'object' } });
  t.deepEqual(options['partition-selector'], {});
});

test('a dotted flag without a value is left for the parser to reject; "--" ends extraction', (t) => {
  t.deepEqual(extractDottedOptions(['--name', 'x', '--topic.a']).rest, ['--name', 'x', '--topic.a']);
  t.deepEqual(extractDottedOptions(['--', '--topic.a', '1']).rest, ['--', '--topic.a', '1']);
  t.deepEqual(extractDottedOptions(['--other.a', '1']).rest, ['--other.a', '1']);
  t.throws(() => extractDottedOptions(['--topic..a', '1']), { instanceOf: CliError });
});

test('merge patch: the command line wins, null deletes, nested objects merge', (t) => {
  t.deepEqual(mergePatch({ a: 1, b: { c: 2, d: 3 }, e: 5 }, { a: 9, b: { c: null, x: 1 }, e: null }), { a: 9, b: { d: 3, x: 1 } });
  t.deepEqual(mergePatch({ a: [1, 2] }, { a: [3] }), { a: [3] });
});

test('--driver.root_path is a path as written: digits and commas are no number or list', (t) => {
  for (const root of ['2024', '007', 'data,old', '/srv/a,b', '1.5']) {
    t.deepEqual(extractDottedOptions(['--driver.root_path', root]).options.driver, { root_path: root }, root);
    t.deepEqual(extractDottedOptions([`--driver.root_path=${root}`]).options.driver, { root_path: root }, root);
  }
});

test('--driver.verify_data and --driver.use_file_locking take true and false as booleans; other keys keep "true" a string', (t) => {
  t.deepEqual(extractDottedOptions(['--driver.verify_data', 'false', '--driver.use_file_locking=true']).options.driver, {
    verify_data: false, use_file_locking: true,
  });
  t.deepEqual(extractDottedOptions(['--driver.verify_data', 'no']).options.driver, { verify_data: 'no' });
  t.deepEqual(extractDottedOptions(['--topic.verify_data', 'false', '--driver.other', 'true']).options, {
    driver: { other: 'true' }, topic: { verify_data: 'false' }, validator: {}, serializer: {}, 'partition-selector': {},
  });
});

test('a consume with --driver.verify_data false reads; with a value that is not a boolean it is refused by name', async (t) => {
  const root = path.join(tempDir(t), 'data');
  t.is((await ctl(['topic', 'create', '--driver.root_path', root, '--name', 'T'])).code, 0);
  const produced = await ctl(['produce', 'T', `--driver.root_path=${root}`], '{"metadata":{"a":1}}\n');
  t.is(produced.code, 0, produced.stderr);
  const read = await ctl(['consume', 'T', `--driver.root_path=${root}`, '--driver.verify_data', 'false', '--no-data']);
  t.is(read.code, 0, read.stderr);
  t.regex(read.stdout, /"metadata":\{"a":1\}/);
  const refused = await ctl(['consume', 'T', `--driver.root_path=${root}`, '--driver.verify_data', 'maybe']);
  t.not(refused.code, 0);
  t.regex(refused.stderr, /verify_data/);
});

test('a root folder whose name has a comma is used as given (it was a list: "expected a non-empty string")', async (t) => {
  const root = path.join(tempDir(t), 'data,2024');
  const created = await ctl(['topic', 'create', '--driver.root_path', root, '--name', 'T']);
  t.is(created.code, 0, created.stderr);
  t.true(fs.existsSync(path.join(root, 'T', 'topic.json')));
  t.is((await ctl(['topic', 'list', `--driver.root_path=${root}`])).stdout, 'T\n');
});
