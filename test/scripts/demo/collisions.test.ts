// `npm start` (scripts/demo/collisions.ts): its output has the shape the README shows, line for line, and a bad
// DIASPORA_DEMO_EVENTS is refused before anything is created (`abc` printed "produced NaN events").
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import test from 'ava';
import { tempDir } from '../../temp-dir.js';

const run = promisify(execFile);
const DEMO = fileURLToPath(new URL('../../../scripts/demo/collisions.js', import.meta.url));
const README = fileURLToPath(new URL('../../../../README.md', import.meta.url));

function demo(root: string, events: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, [DEMO], { env: { ...process.env, DIASPORA_DEMO_ROOT: root, DIASPORA_DEMO_EVENTS: events } }).then(
    (r) => ({ code: 0, ...r }),
    (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }),
  );
}

/** Numbers (and the root) out: what is left is the shape of each line. */
const shape = (lines: string[], root: string): string[] => lines.map((l) => l.replace(root, '<root>').replace(/\d[\d,.]*/g, 'N'));

test('the README shows every line the demo prints', async (t) => {
  const root = path.join(tempDir(t), 'data');
  const r = await demo(root, '100');
  t.is(r.code, 0, r.stderr);
  const readme = fs.readFileSync(README, 'utf8');
  const sample = /```\n(topic "collisions"[^`]*)```/.exec(readme);
  t.truthy(sample, 'the README has the sample output');
  t.deepEqual(shape(r.stdout.trim().split('\n'), root), shape(sample![1]!.trim().split('\n'), './diaspora_data'));
});

test('a DIASPORA_DEMO_EVENTS that is not a positive integer is BAD_CONFIG, and nothing is created', async (t) => {
  const root = path.join(tempDir(t), 'data');
  for (const events of ['abc', '0', '-5', '1.5', '1e3', '']) {
    const r = await demo(root, events);
    t.is(r.code, 1, events);
    t.is(r.stderr, `demo failed: DIASPORA_DEMO_EVENTS must be a positive integer, got ${JSON.stringify(events)} [BAD_CONFIG]\n`);
    t.is(r.stdout, '');
  }
  t.false(fs.existsSync(root));
});
