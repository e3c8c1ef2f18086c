// Metadata given as a JS value is stored only if JSON represents it exactly; names must be well-formed Unicode.
// Each refusal happens before anything is written.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { DiasporaError, Driver, ErrorCode, type JsonValue } from '../../lib/index.js';
import { tempDir } from '../temp-dir.js';

async function topicIn(t: Parameters<typeof tempDir>[0]) {
  const root = path.join(tempDir(t, 'diaspora-metadata-'), 'root');
  const driver = await Driver.create('files', { root_path: root });
  t.teardown(() => driver.close());
  await driver.createTopic('t');
  return { driver, root, topic: await driver.openTopic('t') };
}

const LONE_HIGH = 'a\ud800b';
const LONE_LOW = '\udc00';

const INEXACT: Array<[string, unknown, RegExp]> = [
  ['NaN', { n: NaN }, /metadata\.n is NaN/],
  ['Infinity', { n: Infinity }, /metadata\.n is Infinity/],
  ['-Infinity in an array', [1, -Infinity], /metadata\[1\] is -Infinity/],
  ['undefined value', { a: 1, gone: undefined }, /metadata\.gone is undefined/],
  ['undefined in an array', [undefined], /metadata\[0\] is undefined/],
  ['symbol value', { s: Symbol('x') }, /metadata\.s is a symbol/],
  ['function value', { f: () => 1 }, /metadata\.f is a function/],
  ['bigint', { big: 10n }, /metadata\.big is a bigint/],
  ['lone surrogate in a string', { text: LONE_HIGH }, /metadata\.text is a string with a lone surrogate/],
  ['lone surrogate deep inside', { a: [{ b: LONE_LOW }] }, /metadata\.a\[0\]\.b/],
  ['lone surrogate in a key', { [LONE_HIGH]: 1 }, /key with a lone surrogate/],
  ['top-level NaN', NaN, /metadata is NaN/],
  ['top-level lone surrogate', { 'odd key': LONE_LOW }, /metadata\["odd key"\]/],
  // Built-in objects JSON.stringify stores as {} or as an object of indices.
  ['Map', new Map([['a', 1]]), /metadata is a Map/],
  ['Set inside', { s: new Set([1, 2]) }, /metadata\.s is a Set/],
  ['WeakMap', { w: new WeakMap() }, /metadata\.w is a Map/],
  ['ArrayBuffer of JSON text', new TextEncoder().encode('{"a":1}').buffer, /metadata is an ArrayBuffer/],
  ['Uint16Array', new Uint16Array([1]), /metadata is a Uint16Array/],
  ['Uint8Array inside', { bytes: new Uint8Array([1]) }, /metadata\.bytes is a Uint8Array/],
  ['DataView', [new DataView(new ArrayBuffer(2))], /metadata\[0\] is a DataView/],
  ['RegExp', { r: /x/ }, /metadata\.r is a RegExp/],
  ['Error', { e: new Error('x') }, /metadata\.e is an Error/],
  ['Promise', { p: Promise.resolve(1) }, /metadata\.p is a Promise/],
  ['boxed NaN', { x: new Number(NaN) }, /metadata\.x is NaN/],
  ['boxed lone surrogate', { x: new String(LONE_LOW) }, /metadata\.x is a string with a lone surrogate/],
  ['boxed symbol', { x: Object(Symbol('s')) }, /metadata\.x is a boxed symbol/],
];

test('metadata JSON cannot represent exactly is a TypeError naming where, and nothing is written', async (t) => {
  const { topic } = await topicIn(t);
  const p = topic.producer();
  for (const [what, metadata, message] of INEXACT) {
    const err = t.throws(() => p.push(metadata as JsonValue), { instanceOf: TypeError }, what);
    t.regex(err!.message, message, what);
  }
  await p.flush();
  t.is((await topic.stats()).partitions[0]!.events, 0);
});

test('exact values round-trip unchanged: surrogate pairs, -0 as 0, toJSON objects, nesting', async (t) => {
  const { topic } = await topicIn(t);
  const p = topic.producer();
  const date = new Date(Date.UTC(2024, 0, 2));
  const values: Array<[unknown, unknown]> = [
    [{ emoji: '😀 é ✓', [`k😀`]: [1, 2.5, -3e-7, null, true] }, { emoji: '😀 é ✓', 'k😀': [1, 2.5, -3e-7, null, true] }],
    [{ when: date }, { when: date.toISOString() }],
    [[[[[]]]], [[[[]]]]],
    ['{"as":"json text"}', { as: 'json text' }],
    [-0, 0], // JSON has no -0: it is stored as 0 (documented)
    [{ n: new Number(5), s: new String('é'), b: new Boolean(false) }, { n: 5, s: 'é', b: false }], // unboxed, as by JSON.stringify
    [{ buf: Buffer.from('hi') }, { buf: { type: 'Buffer', data: [104, 105] } }], // Buffer has a toJSON method
  ];
  for (const [pushed] of values) await p.push(pushed as JsonValue);
  const c = await topic.consumer('c', { until: 'end' });
  const got: unknown[] = [];
  for await (const e of c) got.push(e.metadata);
  t.deepEqual(got, values.map(([, stored]) => stored));
});

test('a topic or consumer name with a lone surrogate is BAD_NAME, and nothing is created', async (t) => {
  const { driver, root, topic } = await topicIn(t);
  const before = fs.readdirSync(root).sort();
  for (const name of [`x${LONE_HIGH}`, LONE_LOW]) {
    const err = await t.throwsAsync(driver.createTopic(name));
    t.is((err as DiasporaError).code, ErrorCode.BAD_NAME);
    t.is(((await t.throwsAsync(driver.openTopic(name))) as DiasporaError).code, ErrorCode.BAD_NAME);
    t.is(((await t.throwsAsync(topic.consumer(name))) as DiasporaError).code, ErrorCode.BAD_NAME);
  }
  t.deepEqual(fs.readdirSync(root).sort(), before);
  t.deepEqual(await topic.listConsumers(), []);
  // A well-formed name outside the BMP is fine.
  await driver.createTopic('t😀');
  t.true(await driver.topicExists('t😀'));
});
