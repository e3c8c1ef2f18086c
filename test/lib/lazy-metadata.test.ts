// The field-reading metadata proxy given to data selectors must be indistinguishable from JSON.parse's object.
import test from 'ava';
import fc from 'fast-check';
import type { JsonValue } from '../../lib/index.js';
import { selectorMetadata, topLevelPrimitive } from '../../lib/lazy-metadata.js';

function proxyOf(text: string): { value: Record<string, unknown>; parses: () => number; parsed: () => JsonValue | undefined } {
  let parses = 0;
  const bytes = Buffer.from(text, 'utf8');
  const source = { bytes, full: undefined as JsonValue | undefined, parse: () => (parses++, JSON.parse(text) as JsonValue) };
  const value = selectorMetadata(source);
  return { value: value as Record<string, unknown>, parses: () => parses, parsed: () => source.full };
}

test('property: every top-level key, and a few absent ones, read as JSON.parse gives them', (t) => {
  fc.assert(
    fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.constantFrom(undefined, 2), fc.string(), (obj, indent, absent) => {
      const text = JSON.stringify(obj, null, indent);
      const expected = JSON.parse(text) as Record<string, unknown>;
      const { value } = proxyOf(text);
      for (const key of [...Object.keys(expected), absent, 'toString', 'constructor']) {
        t.deepEqual(value[key], expected[key], `${text} [${key}]`);
      }
      t.deepEqual(Object.keys(value), Object.keys(expected));
      t.is(JSON.stringify(value), JSON.stringify(expected));
    }),
    { numRuns: 300 },
  );
  t.pass();
});

test('primitive fields come from the text without a parse; anything else parses once, and that object is kept', (t) => {
  const m = proxyOf('{ "i" : -1.5e2, "s": "é\\"x", "t": "plain", "b": false, "n": null, "o": {"k": [1]} }');
  t.is(m.value.i, -150);
  t.is(m.value.s, 'é"x');
  t.is(m.value.t, 'plain');
  t.is(m.value.b, false);
  t.is(m.value.n, null);
  t.is(m.parses(), 0);
  t.is(m.parsed(), undefined);
  const o = m.value.o;
  t.deepEqual(o, { k: [1] });
  t.is(m.value.o, o); // the same object every time
  t.is(m.parses(), 1);
  t.is((m.parsed() as Record<string, unknown>).o, o);
  t.true('i' in m.value);
  t.false('zz' in m.value);
  t.is(m.parses(), 1);
});

test('duplicates (the last wins), escaped keys, non-ASCII keys, and writes behave as on the parsed object', (t) => {
  t.is(proxyOf('{"a":1,"a":2}').value.a, 2);
  t.is(proxyOf('{"\\u0061":1}').value.a, 1);
  t.is(proxyOf('{"é":3}').value['é'], 3);
  const m = proxyOf('{"a":1}');
  m.value.a = 5;
  t.is(m.value.a, 5);
  t.deepEqual(m.parsed(), { a: 5 });
  t.is(typeof topLevelPrimitive(Buffer.from('[1]'), 'a'), 'symbol'); // not an object: answered by the full parse
});

test('text that is not an object is parsed at once and given as is', (t) => {
  for (const text of ['[1,2]', '"s"', '7', 'null']) {
    const m = proxyOf(text);
    t.deepEqual(m.value as unknown, JSON.parse(text));
    t.is(m.parses(), 1);
  }
});

test('number fields read from the text equal JSON.parse, short integers (summed from digits) and all other forms', (t) => {
  const literals = [
    '0', '-0', '7', '-12', '49', '999999999999999', '-999999999999999', '1234567890123456', '9007199254740993',
    '1.5', '-0.25', '1e3', '2E-2', '-1.5e+2', '12345678901234567890', '0.1',
  ];
  for (const lit of literals) {
    const got = topLevelPrimitive(Buffer.from(`{"a":${lit}}`), 'a');
    t.true(Object.is(got, JSON.parse(lit)), `${lit} read as ${String(got)}`);
  }
  fc.assert(
    fc.property(fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.maxSafeInteger()), (x) => {
      const text = JSON.stringify({ x });
      t.true(Object.is(topLevelPrimitive(Buffer.from(text), 'x'), JSON.parse(text).x), text);
    }),
    { numRuns: 500 },
  );
});
