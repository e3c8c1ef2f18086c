// Retention errors speak the API's language: the option the caller gave (retention_bytes), in the message and in
// details.key (docs/api.md: a bad value is BAD_CONFIG naming the key), never the engine's maxBytes.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { Driver, DiasporaError, ErrorCode } from '../../lib/index.js';
import { checkTopicRetention, retentionPolicyOf } from '../../lib/topic-retention.js';
import { tempDir } from '../temp-dir.js';

const cases: Array<[Record<string, unknown>, string, RegExp]> = [
  [{ retention_ms: 0 }, 'retention_ms', /^retention_ms must be a positive integer, got 0$/],
  [{ retention_bytes: -5 }, 'retention_bytes', /^retention_bytes must be a positive integer, got -5$/],
  [{ retention_bytes: 1.5 }, 'retention_bytes', /^retention_bytes must be a positive integer, got 1\.5$/],
  [{ retention_acked_by: [] }, 'retention_acked_by', /^retention_acked_by must name at least one consumer$/],
  [{ retention_acked_by: 'x' }, 'retention_acked_by', /^retention_acked_by must be '\*' or a list of consumer names, got "x"$/],
  [{ retention_acked_by: [''] }, 'retention_acked_by', /^retention_acked_by: /],
  // ['*'] reads like "every consumer" but would wait for a consumer named '*': nothing would ever be trimmed.
  [{ retention_acked_by: ['*'] }, 'retention_acked_by', /^retention_acked_by lists '\*': give '\*' alone/],
  [{ retention_acked_by: ['a', '*'] }, 'retention_acked_by', /^retention_acked_by lists '\*'/],
];

test('a bad retention value is BAD_CONFIG naming the option, with details.key', (t) => {
  for (const [options, key, message] of cases) {
    for (const check of [() => retentionPolicyOf(options), () => checkTopicRetention(options)]) {
      const err = t.throws(check, { instanceOf: DiasporaError }, JSON.stringify(options));
      t.is(err?.code, ErrorCode.BAD_CONFIG);
      t.regex(err!.message, message);
      t.is(err?.details.key, key, JSON.stringify(options));
      t.notRegex(err!.message, /maxAgeMs|maxBytes|keepUntilAckedBy/);
    }
  }
  // A wrong type is BAD_CONFIG too (topic options are configuration, docs/api.md), named the same way.
  const wrongType = t.throws(() => retentionPolicyOf({ retention_acked_by: 5 }), { instanceOf: DiasporaError, message: /^retention_acked_by must be/ });
  t.is(wrongType?.code, ErrorCode.BAD_CONFIG);
});

// Values of the wrong type (a config file's "5", null, a number among the names) said neither which key in
// details.key nor, for a name in the list, which option in the message.
const wrongTypes: Array<[Record<string, unknown>, string, RegExp]> = [
  [{ retention_ms: '5' }, 'retention_ms', /^retention_ms must be a number, got string$/],
  [{ retention_bytes: null }, 'retention_bytes', /^retention_bytes must be a number, got null$/],
  [{ retention_acked_by: 5 }, 'retention_acked_by', /^retention_acked_by must be '\*' or an array of consumer names$/],
  [{ retention_acked_by: { a: 1 } }, 'retention_acked_by', /^retention_acked_by must be '\*' or an array of consumer names$/],
  [{ retention_acked_by: ['a', 3] }, 'retention_acked_by', /^retention_acked_by: consumer name must be a string, got number$/],
];

test('a retention value of the wrong type is BAD_CONFIG with details.key too', async (t) => {
  for (const [options, key, message] of wrongTypes) {
    for (const check of [() => retentionPolicyOf(options), () => checkTopicRetention(options)]) {
      const err = t.throws(check, { instanceOf: DiasporaError }, JSON.stringify(options));
      t.is(err?.code, ErrorCode.BAD_CONFIG);
      t.regex(err!.message, message);
      t.is(err?.details.key, key, JSON.stringify(options));
    }
  }
  const driver = await Driver.create('files', { root_path: tempDir(t) });
  t.teardown(() => driver.close());
  await driver.createTopic('t', { options: { retention_ms: 60_000 } });
  const topic = await driver.openTopic('t');
  for (const [options, key] of wrongTypes) {
    const created = await t.throwsAsync(driver.createTopic('u', { options: options as never }), { instanceOf: DiasporaError });
    t.is(created?.details.key, key);
    const set = await t.throwsAsync(topic.setRetention(options as never), { instanceOf: DiasporaError });
    t.is(set?.details.key, key);
  }
  t.false(await driver.topicExists('u'), 'nothing created');
  t.deepEqual(await topic.retention(), { retention_ms: 60_000 }, 'nothing changed');
});

test('createTopic with a bad retention option says which option', async (t) => {
  const driver = await Driver.create('files', { root_path: tempDir(t) });
  t.teardown(() => driver.close());
  const err = await t.throwsAsync(driver.createTopic('t', { options: { retention_bytes: -5 } }), { instanceOf: DiasporaError });
  t.is(err?.message, 'retention_bytes must be a positive integer, got -5');
  t.is(err?.details.key, 'retention_bytes');
});

test("a stored policy listing '*' (written before lists refused it) still opens, and keeps its meaning", async (t) => {
  const root = tempDir(t);
  const driver = await Driver.create('files', { root_path: root });
  t.teardown(() => driver.close());
  await driver.createTopic('t', { options: { retention_acked_by: ['a'] } });
  const file = path.join(root, 't', 'topic.json');
  const manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as { retention: { keepUntilAckedBy: string[] } };
  manifest.retention.keepUntilAckedBy = ['*', 'a'];
  fs.writeFileSync(file, JSON.stringify(manifest));
  const topic = await driver.openTopic('t');
  t.deepEqual(await topic.retention(), { retention_acked_by: ['*', 'a'] });
  const err = await t.throwsAsync(topic.setRetention({ retention_acked_by: ['*'] }), { instanceOf: DiasporaError });
  t.is(err?.code, ErrorCode.BAD_CONFIG);
  await topic.setRetention({ retention_acked_by: '*' });
  t.deepEqual(await topic.retention(), { retention_acked_by: '*' });
});
