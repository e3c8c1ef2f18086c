// topic retention / topic trim / consumers delete / consume --on-trimmed, and `consume --from latest` followed by a
// plain consume, run through the built CLI.
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { ctl, jsonLines } from './cli-helper.js';
import { tempDir } from '../../temp-dir.js';

async function topicWith(t: Parameters<typeof tempDir>[0], events: number, extra: string[] = []): Promise<string[]> {
  const D = ['--driver.root_path', path.join(tempDir(t), 'root'), '--driver.segment_bytes', '4096'];
  const created = await ctl(['topic', 'create', ...D, '--name', 'T', '--topic.num_partitions', '2', ...extra]);
  if (created.code !== 0) throw new Error(created.stderr);
  await produce(D, 0, events);
  return D;
}

async function produce(D: string[], from: number, n: number): Promise<void> {
  const lines = Array.from({ length: n }, (_, i) => JSON.stringify({ metadata: { i: from + i }, data: Buffer.alloc(300, i).toString('base64') }));
  const produced = await ctl(['produce', 'T', ...D], lines.join('\n') + '\n');
  if (produced.code !== 0) throw new Error(produced.stderr);
}

test('topic retention shows and replaces the policy; bad values are refused', async (t) => {
  const D = await topicWith(t, 0, ['--topic.retention_bytes', '8192', '--topic.retention_acked_by', 'app']);
  const shown = await ctl(['topic', 'retention', 'T', ...D]);
  t.is(shown.code, 0, shown.stderr);
  t.is(shown.stdout, 'T: retention retention_bytes 8192, acked_by app\n');
  const set = await ctl(['topic', 'retention', 'T', ...D, '--retention-ms', '60000', '--retention-acked-by', '*']);
  t.is(set.code, 0, set.stderr);
  t.is(set.stdout, 'T: retention retention_ms 60000, acked_by *\n');
  const describe = await ctl(['topic', 'describe', 'T', ...D, '--json']);
  t.deepEqual(jsonLines(describe.stdout)[0]!.retention, { retention_ms: 60000, retention_acked_by: '*' });
  t.is((await ctl(['topic', 'retention', 'T', ...D, '--none'])).stdout, 'T: retention none (events are kept)\n');
  const bad = await ctl(['topic', 'retention', 'T', ...D, '--retention-ms', '0']);
  t.is(bad.code, 1);
  t.regex(bad.stderr, /BAD_CONFIG|positive integer/);
  const badCreate = await ctl(['topic', 'create', ...D, '--name', 'U', '--topic.retention_msec', '5']);
  t.is(badCreate.code, 1);
  t.regex(badCreate.stderr, /retention_msec/);
});

test('a retention policy damaged by hand: showing it and producing fail saying what is wrong; --none or new values replace it', async (t) => {
  const D = await topicWith(t, 0, ['--topic.retention_ms', '60000']);
  const manifest = path.join(D[1]!, 'T', 'topic.json');
  const damage = (retention: unknown): void => {
    const m = JSON.parse(fs.readFileSync(manifest, 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(manifest, JSON.stringify({ ...m, retention }));
  };
  const stored = (): unknown => (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { retention?: unknown }).retention;
  damage({ maxAgeMs: 'abc' });
  const shown = await ctl(['topic', 'retention', 'T', ...D]);
  t.is(shown.code, 1);
  t.is(shown.stderr, `diaspora-ctl: error: ${manifest} has an invalid retention policy: retention maxAgeMs must be a number, got string; replace it with driver.setTopicRetention() or 'diaspora-ctl topic retention T --none' (or new --retention-* values) [CORRUPTION]\n`);
  const produced = await ctl(['produce', 'T', ...D], '{"metadata":{"i":0}}\n');
  t.is(produced.code, 1);
  t.regex(produced.stderr, /invalid retention policy: retention maxAgeMs must be a number, got string.*\[CORRUPTION\]/);
  const cleared = await ctl(['topic', 'retention', 'T', ...D, '--none']);
  t.is(cleared.code, 0, cleared.stderr);
  t.is(cleared.stderr, 'T: replaced a damaged retention policy: retention maxAgeMs must be a number, got string\n');
  t.is(cleared.stdout, 'T: retention none (events are kept)\n');
  t.is(stored(), undefined);
  await produce(D, 0, 1);

  damage({ max_age_ms: 5000 });
  const refused = await ctl(['topic', 'retention', 'T', ...D, '--retention-ms', '0']);
  t.is(refused.code, 1);
  t.regex(refused.stderr, /retention_ms must be a positive integer, got 0 \[BAD_CONFIG\]/);
  t.deepEqual(stored(), { max_age_ms: 5000 }, 'a bad replacement writes nothing');
  const replaced = await ctl(['topic', 'retention', 'T', ...D, '--retention-ms', '5000', '--retention-acked-by', 'app']);
  t.is(replaced.code, 0, replaced.stderr);
  t.is(replaced.stderr, 'T: replaced a damaged retention policy: unknown retention key "max_age_ms" (valid: maxAgeMs, maxBytes, keepUntilAckedBy)\n');
  t.is(replaced.stdout, 'T: retention retention_ms 5000, acked_by app\n');
  const again = await ctl(['topic', 'retention', 'T', ...D, '--none']);
  t.is(again.stderr, '', 'a valid policy replaced: nothing to report');
});

test('topic create --topic.retention_acked_by takes consumer names as written, numbers included', async (t) => {
  const D = await topicWith(t, 0, ['--topic.retention_acked_by', '007,2024,app']);
  t.deepEqual(jsonLines((await ctl(['topic', 'describe', 'T', ...D, '--json'])).stdout)[0]!.retention, { retention_acked_by: ['007', '2024', 'app'] });
  const one = await ctl(['topic', 'create', ...D, '--name', 'U', '--topic.retention_acked_by', '5']);
  t.is(one.code, 0, one.stderr);
  t.deepEqual(jsonLines((await ctl(['topic', 'describe', 'U', ...D, '--json'])).stdout)[0]!.retention, { retention_acked_by: ['5'] });
  const all = await ctl(['topic', 'create', ...D, '--name', 'V', '--topic.retention_acked_by', '*']);
  t.is(all.code, 0, all.stderr);
  t.deepEqual(jsonLines((await ctl(['topic', 'describe', 'V', ...D, '--json'])).stdout)[0]!.retention, { retention_acked_by: '*' });
  const empty = await ctl(['topic', 'create', ...D, '--name', 'W', '--topic.retention_acked_by', 'a,,b']);
  t.is(empty.code, 1);
  t.regex(empty.stderr, /retention_acked_by: consumer name must not be empty \[BAD_CONFIG\]/);
});

/**
 * The policy set once the events are in: `produce` commits all the lines of its input in one batch, and its first append
 * trims by the policy already (docs/retention.md), which would leave nothing to trim.
 */
async function setRetention(D: string[], ...flags: string[]): Promise<void> {
  const set = await ctl(['topic', 'retention', 'T', ...D, ...flags]);
  if (set.code !== 0) throw new Error(set.stderr);
}

test('topic trim --dry-run says what would go and removes nothing; topic trim removes it; describe shows the first id', async (t) => {
  const D = await topicWith(t, 80);
  await setRetention(D, '--retention-bytes', '4096');
  const dry = await ctl(['topic', 'trim', 'T', ...D, '--dry-run', '--json']);
  t.is(dry.code, 0, dry.stderr);
  const planned = jsonLines<{ partition: number; firstId: number; removedEvents: number; dryRun: boolean }>(dry.stdout);
  t.true(planned.every((p) => p.dryRun && p.removedEvents > 0));
  const before = jsonLines<{ partitions: Array<{ firstId: number }> }>((await ctl(['topic', 'describe', 'T', ...D, '--json'])).stdout)[0]!;
  t.deepEqual(before.partitions.map((p) => p.firstId), [0, 0]);
  const trim = await ctl(['topic', 'trim', 'T', ...D]);
  t.is(trim.code, 0, trim.stderr);
  t.regex(trim.stdout, /events removed/);
  const after = jsonLines<{ partitions: Array<{ firstId: number; endId: number }> }>((await ctl(['topic', 'describe', 'T', ...D, '--json'])).stdout)[0]!;
  t.deepEqual(after.partitions.map((p) => p.firstId), planned.map((p) => p.firstId));
  const text = await ctl(['topic', 'describe', 'T', ...D]);
  t.regex(text.stdout, /retention: retention_bytes 4096/);
  const verify = await ctl(['verify', 'T', ...D]);
  t.is(verify.code, 0, verify.stdout + verify.stderr);
});

test('consume --from latest, then a plain consume: only what came after, on every partition; consumers delete', async (t) => {
  const D = await topicWith(t, 10);
  const latest = await ctl(['consume', 'T', ...D, '--name', 'c', '--from', 'latest']);
  t.is(latest.code, 0, latest.stderr);
  t.is(latest.stdout, '');
  await produce(D, 10, 1);
  const plain = await ctl(['consume', 'T', ...D, '--name', 'c']);
  t.is(plain.code, 0, plain.stderr);
  t.deepEqual(jsonLines<{ metadata: { i: number } }>(plain.stdout).map((l) => l.metadata.i), [10]);
  const del = await ctl(['consumers', 'delete', 'T', 'c', ...D]);
  t.is(del.code, 0, del.stderr);
  t.deepEqual(jsonLines((await ctl(['consumers', 'T', ...D, '--json'])).stdout), []);
  const again = await ctl(['consumers', 'delete', 'T', 'c', ...D]);
  t.is(again.code, 1);
  t.regex(again.stderr, /does not exist/);
});

test('consume below the first id: an error by default, --on-trimmed earliest skips with a warning', async (t) => {
  const D = await topicWith(t, 40);
  const first = await ctl(['consume', 'T', ...D, '--name', 'c', '--max', '1', '--partition', '0']);
  t.is(first.code, 0, first.stderr);
  await setRetention(D, '--retention-bytes', '1');
  t.is((await ctl(['topic', 'trim', 'T', ...D])).code, 0);
  const refused = await ctl(['consume', 'T', ...D, '--name', 'c', '--partition', '0']);
  t.is(refused.code, 1);
  t.regex(refused.stderr, /retention removed/);
  const skipped = await ctl(['consume', 'T', ...D, '--name', 'c', '--partition', '0', '--on-trimmed', 'earliest']);
  t.is(skipped.code, 0, skipped.stderr);
  t.true(jsonLines(skipped.stdout).length > 0);
  t.regex(skipped.stderr, /skipped events/);
});
