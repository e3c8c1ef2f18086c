// `verify` over a root where a topic cannot even be opened (topic.json damaged, a partition folder gone): that is
// damage like any other, reported with the topic, and the other topics and partitions are still checked (exit 3).
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { ctl, jsonLines } from './cli-helper.js';
import { tempDir } from '../../temp-dir.js';

test('verify reports a damaged topic.json and a missing partition folder as damage, checks the rest, exits 3', async (t) => {
  const root = path.join(tempDir(t), 'root');
  const D = ['--driver.root_path', root];
  for (const name of ['A', 'B', 'C']) {
    t.is((await ctl(['topic', 'create', ...D, '--name', name, '--topic.num_partitions', '2'])).code, 0);
    t.is((await ctl(['produce', name, ...D, '-q'], '{"metadata":1,"partition":0}\n{"metadata":2,"partition":1}\n')).code, 0);
  }
  fs.writeFileSync(path.join(root, 'A', 'topic.json'), 'garbage{');
  fs.rmSync(path.join(root, 'B', 'partitions', '00000000'), { recursive: true });
  // C partition 1: a flipped data byte, which only a check that reaches it finds.
  const cData = path.join(root, 'C', 'partitions', '00000001', '00000000000000000000.meta');
  const bytes = fs.readFileSync(cData);
  bytes[0] ^= 0xff;
  fs.writeFileSync(cData, bytes);

  const text = await ctl(['verify', ...D]);
  t.is(text.code, 3, text.stderr);
  t.regex(text.stdout, /^A: .*topic\.json is not valid JSON$/m);
  t.regex(text.stdout, /^B partition 0: .*00000000 .*is missing$/m);
  t.regex(text.stdout, /^C partition 1: /m, 'the topics after a damaged one are checked');
  t.regex(text.stderr, /^diaspora-ctl: error: \d+ problem\(s\) found in 3 topic\(s\) \[CORRUPTION\]\n$/);

  const json = await ctl(['verify', ...D, '--json']);
  t.is(json.code, 3, json.stderr);
  const problems = jsonLines<{ topic: string; partition?: number; message: string }>(json.stdout);
  t.true(problems.some((p) => p.topic === 'A' && p.partition === undefined && /not valid JSON/.test(p.message)));
  t.true(problems.some((p) => p.topic === 'B' && p.partition === 0));
  t.true(problems.some((p) => p.topic === 'C' && p.partition === 1));
  t.false(problems.some((p) => p.topic === 'B' && p.partition === 1), 'the intact partition of B is checked and clean');
});
