// How an event looks from outside: its own properties, console.log / util.inspect and JSON.stringify show its
// fields, never its internals (the consumer, and the engine's record whose mapping reaches past the end of the
// segment file: walking that deeply, as test frameworks do to format or compare values, raised SIGBUS).
import test from 'ava';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import util from 'node:util';
import { fileURLToPath } from 'node:url';
import { Driver, type Event } from '../../lib/index.js';
import { tempDir } from '../temp-dir.js';

const libEntry = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../lib/index.js');

async function oneEvent(t: import('ava').ExecutionContext): Promise<{ event: Event; close: () => Promise<void> }> {
  const driver = await Driver.create('files', { root_path: tempDir(t) });
  await driver.createTopic('t');
  const topic = await driver.openTopic('t');
  await topic.producer().push({ a: 1, s: 'x' }, Buffer.from('hello'));
  const consumer = await topic.consumer('c', { until: 'end' });
  const event = (await consumer.pull().wait())!;
  return { event, close: () => driver.close() };
}

test('own properties are partition and data; JSON.stringify and util.inspect show the fields', async (t) => {
  const { event, close } = await oneEvent(t);
  t.deepEqual(Object.keys(event), ['partition', 'data']);
  const json = JSON.parse(JSON.stringify(event));
  t.deepEqual(json, { partition: 0, id: 0, timestamp: event.timestamp, metadata: { a: 1, s: 'x' }, dataSize: 5 });
  t.true(event.timestamp > 0);
  const shown = util.inspect(event, { depth: Infinity, maxArrayLength: Infinity, showHidden: true });
  t.regex(shown, /^Event \{/);
  t.regex(shown, /metadata: \{ a: 1, s: 'x' \}/);
  t.notRegex(shown, /Consumer|owner|stored|Segment/);
  await close();
});

test('walking an event as deeply as possible in another process does not kill it', (t) => {
  const root = tempDir(t);
  // The walk a test framework does: every own property, every byte of every buffer reached.
  const script = `
    import { Driver } from ${JSON.stringify(libEntry)};
    import util from 'node:util';
    const d = await Driver.create('files', { root_path: ${JSON.stringify(root)} });
    await d.createTopic('t');
    const topic = await d.openTopic('t');
    await topic.producer().push({ a: 1 }, Buffer.from('hello'));
    const c = await topic.consumer('c', { until: 'end' });
    const e = await c.pull().wait();
    const seen = new Set();
    let bytes = 0;
    const walk = (v) => {
      if (v === null || typeof v !== 'object' || seen.has(v)) return;
      seen.add(v);
      if (ArrayBuffer.isView(v)) { for (let i = 0; i < v.byteLength; i++) bytes += new Uint8Array(v.buffer, v.byteOffset, v.byteLength)[i] >= 0 ? 1 : 0; return; }
      for (const k of Reflect.ownKeys(v)) { try { walk(v[k]); } catch {} }
    };
    walk(e);
    util.inspect(e, { depth: Infinity, maxArrayLength: Infinity, showHidden: true });
    console.log('WALKED ' + bytes);
    await d.close();
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  t.is(r.signal, null, `killed by ${r.signal}: ${r.stderr}`);
  t.is(r.status, 0, r.stderr);
  // The data (5 bytes) is reachable, the mapping behind the record is not.
  t.regex(r.stdout, /^WALKED \d+$/m);
  t.true(Number(/WALKED (\d+)/.exec(r.stdout)![1]) < 1024, r.stdout);
});
