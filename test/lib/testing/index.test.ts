import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { DiasporaError } from '../../../lib/index.js';
import { fixtureDriver, loadEventLines, tempDriver } from '../../../lib/testing/index.js';
import { tempDir } from '../../temp-dir.js';

function jsonl(t: { teardown(fn: () => void): void }, text: string, name = 'events.jsonl'): string {
  const dir = tempDir(t, 'testing-helper-');
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

test('fixtureDriver loads a JSON-lines file into a topic named after it, and cleanup removes the root', async (t) => {
  const file = jsonl(t, '{"metadata":{"a":1},"data":"aGVsbG8="}\n\n{"metadata":"text"}\n{"metadata":[1],"partition":1}\n');
  const fx = await fixtureDriver(file, { partitions: 2 });
  const topic = await fx.driver.openTopic('events');
  const c = await topic.consumer('t', { until: 'end' });
  const seen: Array<[number, number, unknown, string]> = [];
  for await (const e of c) seen.push([e.partition, e.id, e.metadata, e.data.read().toString()]);
  t.deepEqual(seen, [[0, 0, { a: 1 }, 'hello'], [1, 0, 'text', ''], [1, 1, [1], '']] as never);
  t.true(fs.existsSync(fx.root));
  await fx.cleanup();
  await fx.cleanup();
  t.false(fs.existsSync(fx.root));
  t.true(fx.driver.closed);
});

test('the t option registers cleanup as a teardown; tempDriver starts empty', async (t) => {
  const hooks: Array<() => unknown> = [];
  const fx = await tempDriver({ t: { teardown: (fn) => void hooks.push(fn) } });
  t.deepEqual([...(await fx.driver.listTopics()).keys()], []);
  t.is(hooks.length, 1);
  await hooks[0]();
  t.false(fs.existsSync(fx.root));
});

test('bad lines fail with the file and line number; bad arguments are TypeErrors', async (t) => {
  const file = jsonl(t, '{"metadata":1}\n{"nometadata":1}\n', 'bad.jsonl');
  const err = await t.throwsAsync(fixtureDriver(file), { instanceOf: DiasporaError });
  t.regex(err!.message, /bad\.jsonl:2:/);
  t.is((err as DiasporaError).code, 'BAD_ARGUMENT');
  await t.throwsAsync(fixtureDriver('/no/such/fixture'), { instanceOf: DiasporaError });
  await t.throwsAsync(fixtureDriver(42 as never), { instanceOf: TypeError });
  const fx = await tempDriver({ t });
  await t.throwsAsync(loadEventLines(fx.driver, 7 as never, file), { instanceOf: TypeError });
  t.is(await loadEventLines(fx.driver, 'm', jsonl(t, '{"x":1}\n"s"\n', 'm.jsonl'), { metadataOnly: true }), 2);
});
