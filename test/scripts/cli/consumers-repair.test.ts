// `diaspora-ctl consumers reset` is the way out of a damaged offset file (a consumer of that name fails with CORRUPTION
// naming it): it rewrites the file, and the consumer then goes on from the position given. Meanwhile `topic describe`
// and `consumers T` still show the topic, with that position as DAMAGED and the file named.
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { ctl, jsonLines } from './cli-helper.js';
import { tempDir } from '../../temp-dir.js';

const lines = (n: number): string => Array.from({ length: n }, (_, i) => `{"metadata":${i}}\n`).join('');

test('consumers reset repairs a damaged offset file; a healthy consumer beside a damaged one can be reset too', async (t) => {
  const root = path.join(tempDir(t), 'root');
  const D = ['--driver.root_path', root];
  t.is((await ctl(['topic', 'create', ...D, '--name', 'T'])).code, 0);
  t.is((await ctl(['produce', 'T', ...D, '-q'], lines(6))).code, 0);
  for (const name of ['audit', 'other']) t.is((await ctl(['consume', 'T', '--name', name, ...D, '--max', '6'])).code, 0);
  const file = path.join(root, 'T', 'consumers', 'audit', '00000000.offset');
  fs.writeFileSync(file, Buffer.alloc(64, 0x5a));

  const failed = await ctl(['consume', 'T', '--name', 'audit', ...D]);
  t.is(failed.code, 1);
  t.true(failed.stderr.includes(file), failed.stderr);
  t.regex(failed.stderr, /\[CORRUPTION\]/);
  t.regex(failed.stderr, /consumers reset/);
  // Before, both failed with that CORRUPTION and showed nothing of the topic.
  const message = `offset file ${file} has no valid slot; move the consumer with topic.resetConsumer or 'diaspora-ctl consumers reset', which rewrites it`;
  const damageLine = `consumer 'audit' partition 0: ${message} [CORRUPTION]\n`;
  for (const args of [['consumers', 'T'], ['topic', 'describe', 'T']]) {
    const shown = await ctl([...args, ...D]);
    t.is(shown.code, 0, shown.stderr);
    t.regex(shown.stdout, /\naudit +0 +DAMAGED +6 +\?\n/, 'no position shown for the damaged file');
    t.regex(shown.stdout, /\nother +0 +5 +6 +0\n/, 'the other consumer as it is');
    t.true(shown.stdout.endsWith(`\n${damageLine}`), shown.stdout);
  }
  const described = jsonLines<{ partitions: unknown[]; consumers: unknown[] }>((await ctl(['topic', 'describe', 'T', ...D, '--json'])).stdout)[0]!;
  t.is(described.partitions.length, 1);
  t.deepEqual(described.consumers, [
    { name: 'audit', partitions: [{ partition: 0, lastAcknowledged: null, endId: 6, lag: null, damaged: { code: 'CORRUPTION', file, message } }] },
    { name: 'other', partitions: [{ partition: 0, lastAcknowledged: 5, endId: 6, lag: 0 }] },
  ]);

  // Another consumer is not held hostage by the damaged one.
  const other = await ctl(['consumers', 'reset', 'T', 'other', '--to', '4', ...D]);
  t.is(other.code, 0, other.stderr);
  // A misspelt name is still refused.
  const typo = await ctl(['consumers', 'reset', 'T', 'audti', '--to', 'earliest', ...D]);
  t.is(typo.code, 1);
  t.regex(typo.stderr, /does not exist/);

  const repaired = await ctl(['consumers', 'reset', 'T', 'audit', '--to', '3', ...D]);
  t.is(repaired.code, 0, repaired.stderr);
  t.deepEqual(jsonLines<{ name: string; partitions: Array<{ lastAcknowledged: number | null }> }>((await ctl(['consumers', 'T', ...D, '--json'])).stdout)
    .map((c) => [c.name, c.partitions.map((p) => p.lastAcknowledged)]), [['audit', [2]], ['other', [3]]]);
  const resumed = await ctl(['consume', 'T', '--name', 'audit', ...D]);
  t.is(resumed.code, 0, resumed.stderr);
  t.deepEqual(jsonLines<{ metadata: number }>(resumed.stdout).map((e) => e.metadata), [3, 4, 5]);
});
