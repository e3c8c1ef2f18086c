// A retention policy damaged by hand in topic.json: the topic does not open (CORRUPTION saying what is wrong and how
// to repair it), trims of a handle opened before fail the same way, but the policy can be replaced or removed:
// driver.setTopicRetention() without opening the topic, topic.setRetention() on a handle opened before the damage.
import test, { type ExecutionContext } from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { Driver, DiasporaError, ErrorCode } from '../../lib/index.js';
import { tempDir } from '../temp-dir.js';

/** Damaged policies (as the engine spells its keys in topic.json) and what the errors say of them. */
const DAMAGE: Array<[unknown, string]> = [
  [{ maxAgeMs: 'abc' }, 'retention maxAgeMs must be a number, got string'],
  [{ max_age_ms: 5000 }, 'unknown retention key "max_age_ms" (valid: maxAgeMs, maxBytes, keepUntilAckedBy)'],
  [{ maxBytes: 0 }, 'retention maxBytes must be a positive integer, got 0'],
  [{ keepUntilAckedBy: [] }, 'retention keepUntilAckedBy must name at least one consumer'],
  ['7 days', 'retention policy must be an object'],
];

async function setup(t: ExecutionContext): Promise<{ d: Driver; root: string; manifest: string }> {
  const root = tempDir(t);
  const d = await Driver.create('files', { root_path: root });
  t.teardown(() => d.close());
  await d.createTopic('t', { options: { retention_ms: 60_000 } });
  return { d, root, manifest: path.join(root, 't', 'topic.json') };
}

function damage(manifest: string, retention: unknown): void {
  const m = JSON.parse(fs.readFileSync(manifest, 'utf8')) as Record<string, unknown>;
  fs.writeFileSync(manifest, JSON.stringify({ ...m, retention }));
}

const storedRetention = (manifest: string): unknown => (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { retention?: unknown }).retention;

for (const [bad, problem] of DAMAGE) {
  test(`damaged policy ${JSON.stringify(bad)}: openTopic fails saying what is wrong; driver.setTopicRetention replaces or removes it`, async (t) => {
    const { d, manifest } = await setup(t);
    damage(manifest, bad);
    const err = await t.throwsAsync(d.openTopic('t'), { instanceOf: DiasporaError });
    t.is(err?.code, ErrorCode.CORRUPTION);
    t.is(err?.message, `${manifest} has an invalid retention policy: ${problem}; replace it with driver.setTopicRetention() or 'diaspora-ctl topic retention t --none' (or new --retention-* values)`);
    // A bad replacement is refused before anything is written.
    const refused = await t.throwsAsync(d.setTopicRetention('t', { retention_ms: 0 }), { instanceOf: DiasporaError });
    t.is(refused?.code, ErrorCode.BAD_CONFIG);
    t.deepEqual(storedRetention(manifest), bad, 'topic.json untouched');
    t.is(await d.setTopicRetention('t', { retention_bytes: 1 << 20 }), problem);
    const topic = await d.openTopic('t');
    t.deepEqual(await topic.retention(), { retention_bytes: 1 << 20 });
    t.deepEqual(storedRetention(manifest), { maxBytes: 1 << 20 });
    await topic.close();
    damage(manifest, bad);
    t.is(await d.setTopicRetention('t', {}), problem);
    t.is(storedRetention(manifest), undefined, 'removed');
    t.deepEqual(await (await d.openTopic('t')).retention(), {});
    t.is(await d.setTopicRetention('t', { retention_ms: 5 }), null, 'a valid policy replaced: nothing was wrong');
  });
}

test('a handle opened before the damage: its trims fail with CORRUPTION, its setRetention replaces the damaged policy', async (t) => {
  const { d, manifest } = await setup(t);
  const topic = await d.openTopic('t');
  damage(manifest, { maxAgeMs: 'abc' });
  const trim = await t.throwsAsync(topic.trim(), { instanceOf: DiasporaError });
  t.is(trim?.code, ErrorCode.CORRUPTION);
  t.regex(trim!.message, /invalid retention policy: retention maxAgeMs must be a number, got string/);
  t.is((await t.throwsAsync(topic.retention(), { instanceOf: DiasporaError }))?.code, ErrorCode.CORRUPTION);
  await topic.setRetention({ retention_ms: 1000 });
  t.deepEqual(await topic.retention(), { retention_ms: 1000 });
  damage(manifest, { max_age_ms: 5 });
  await topic.setRetention({});
  t.deepEqual(await topic.retention(), {});
  t.deepEqual(await topic.trim(), [{ partition: 0, firstIdBefore: 0, firstId: 0, endId: 0, removedSegments: 0, removedEvents: 0, removedBytes: 0, reasons: [] }]);
});

test('driver.setTopicRetention: TOPIC_NOT_FOUND, BAD_NAME, UNSUPPORTED where topics have no retention (memory driver, reference format)', async (t) => {
  const { d } = await setup(t);
  t.is((await t.throwsAsync(d.setTopicRetention('nope', {}), { instanceOf: DiasporaError }))?.code, ErrorCode.TOPIC_NOT_FOUND);
  t.is((await t.throwsAsync(d.setTopicRetention('../t', {}), { instanceOf: DiasporaError }))?.code, ErrorCode.BAD_NAME);
  await t.throwsAsync(d.setTopicRetention('t', null as never), { instanceOf: TypeError });
  await d.convertTopic('t', 'ref', 'reference');
  t.is((await t.throwsAsync(d.setTopicRetention('ref', {}), { instanceOf: DiasporaError }))?.code, ErrorCode.UNSUPPORTED);
  const m = await Driver.create('memory');
  t.teardown(() => m.close());
  await m.createTopic('x');
  t.is((await t.throwsAsync(m.setTopicRetention('x', { retention_ms: 5 }), { instanceOf: DiasporaError }))?.code, ErrorCode.UNSUPPORTED);
  t.is((await t.throwsAsync(m.setTopicRetention('y', {}), { instanceOf: DiasporaError }))?.code, ErrorCode.TOPIC_NOT_FOUND);
});
