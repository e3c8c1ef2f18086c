import test from 'ava';
import fc from 'fast-check';
import { DiasporaError, ErrorCode } from '../../../lib/errors.js';
import type { JsonObject, JsonValue } from '../../../lib/json.js';
import { compileEventbridgePattern } from '../../../lib/components/eventbridge.js';

// Literal patterns in these tests are JSON; `unknown` spares TypeScript's union inference on them.
function matches(pattern: unknown, metadata: unknown): boolean {
  return compileEventbridgePattern(pattern as JsonValue)(metadata as JsonValue);
}

function badPattern(t: import('ava').ExecutionContext, pattern: unknown, message: string | RegExp): void {
  const err = t.throws(() => compileEventbridgePattern(pattern as JsonValue), { instanceOf: DiasporaError });
  t.is(err?.code, ErrorCode.BAD_CONFIG);
  if (typeof message === 'string') t.is(err?.message, message);
  else t.regex(err?.message ?? '', message);
}

// ---- The reference's EventbridgeTest (items 43-75): each key pair is a positive unit check, plus a negative one. ----

const referencePattern: JsonObject = {
  a1: 'a_value',
  a2: ['a2_value_1', 'a2_value_2'],
  b1: [{ 'anything-but': 'b1_value' }],
  b2: [{ 'anything-but': ['b2_value_1', 'b2_value_2'] }],
  b3: [{ 'anything-but': { prefix: 'b3_prefix' } }],
  b4: [{ 'anything-but': { prefix: ['b4_prefix_1', 'b4_prefix_2'] } }],
  b5: [{ 'anything-but': { prefix: { 'equals-ignore-case': 'b5_prefix' } } }],
  b6: [{ 'anything-but': { prefix: { 'equals-ignore-case': ['b6_prefix_1', 'b6_prefix_2'] } } }],
  b7: [{ 'anything-but': { suffix: 'b7_suffix' } }],
  b8: [{ 'anything-but': { suffix: ['b8_suffix_1', 'b8_suffix_2'] } }],
  b9: [{ 'anything-but': { suffix: { 'equals-ignore-case': 'b9_suffix' } } }],
  b10: [{ 'anything-but': { suffix: { 'equals-ignore-case': ['b10_suffix_1', 'b10_suffix_2'] } } }],
  c1: [{ prefix: 'c1_prefix' }],
  c2: [{ prefix: ['c2_prefix_1', 'c2_prefix_2'] }],
  c3: [{ prefix: { 'equals-ignore-case': 'c3_prefix' } }],
  c4: [{ prefix: { 'equals-ignore-case': ['c4_prefix_1', 'c4_prefix_2'] } }],
  d1: [{ suffix: 'd1_suffix' }],
  d2: [{ suffix: ['d2_suffix_1', 'd2_suffix_2'] }],
  d3: [{ suffix: { 'equals-ignore-case': 'd3_suffix' } }],
  d4: [{ suffix: { 'equals-ignore-case': ['d4_suffix_1', 'd4_suffix_2'] } }],
  e1: [{ numeric: ['<', 42, '>=', 10] }],
  e2: [{ numeric: ['<=', 42, '>', 10] }],
  f1: [{ exists: true }],
  f2: [{ exists: false }],
  g1: [{ 'equals-ignore-case': 'g1_VAluE_1' }],
  g2: [{ 'equals-ignore-case': ['g2_VAluE_1', 'g2_VAluE_2'] }],
  h1: [{ wildcard: 'abc*def*ghi' }],
  i1: { i1_1: 'i1_1_value' },
  'i2.i2_1': 'i2_1_value',
  j1: [{ $or: [{ j1_1: [{ exists: true }] }, { j2_2: [{ exists: true }] }] }],
};

const referenceExample: JsonObject = {
  a1: 'a_value',
  a2: 'a2_value_2',
  b1: 'not_b1_value',
  b2: 'not_b2_value_1',
  b3: 'not_b3_prefix_value',
  b4: 'not_b4_prefix_1',
  b5: 'not_b5_PREfix',
  b6: 'not_b6_PREfix_1',
  b7: 'b7_suffix_not',
  b8: 'b8_suffix_1_not',
  b9: 'b9_SUFfix_not',
  b10: 'b10_SUFfix_1_not',
  c1: 'c1_prefix_value',
  c2: 'c2_prefix_1_value',
  c3: 'c3_PREfix_value',
  c4: 'c4_PREfix_1_value',
  d1: 'value_d1_suffix',
  d2: 'value_d2_suffix_2',
  d3: 'value_d3_SUFfix',
  d4: 'value_d4_SUFfix_2',
  e1: 33,
  e2: 34,
  f1: 'something',
  g1: 'g1_vaLUe_1',
  g2: 'g2_vaLUe_2',
  h1: 'abcXXXdefYYghi',
  i1: { i1_1: 'i1_1_value' },
  i2: { i2_1: 'i2_1_value' },
  j1: { j2_2: 123 },
};

/** A value of the same key that the rule must reject (f2 is checked by adding the key). */
const referenceCounterExample: Record<string, JsonValue> = {
  a1: 'other',
  a2: 'a2_value_3',
  b1: 'b1_value',
  b2: 'b2_value_2',
  b3: 'b3_prefix_value',
  b4: 'b4_prefix_2_value',
  b5: 'B5_PREFIX_value',
  b6: 'b6_PREFIX_2_value',
  b7: 'value_b7_suffix',
  b8: 'value_b8_suffix_2',
  b9: 'value_B9_SUFFIX',
  b10: 'value_B10_SUFFIX_2',
  c1: 'x_c1_prefix',
  c2: 'c2_prefix_3',
  c3: 'x_C3_PREFIX',
  c4: 'c4_PREfix_3_value',
  d1: 'd1_suffix_x',
  d2: 'value_d2_suffix_3',
  d3: 'value_d3_SUFfix_x',
  d4: 'value_d4_SUFfix_3',
  e1: 42,
  e2: 10,
  g1: 'g1_value_2',
  g2: 'g2_value_3',
  h1: 'abcXXXdefYYghiZ',
  i1: { i1_1: 'other' },
  i2: { i2_1: 'other' },
  j1: { j3_3: 123 },
};

for (const key of Object.keys(referencePattern)) {
  const pattern = { [key]: referencePattern[key]! };
  const dataKey = key.split('.')[0]!;
  test(`reference pattern "${key}" accepts its example value`, (t) => {
    const data: JsonObject = dataKey in referenceExample ? { [dataKey]: referenceExample[dataKey]! } : {};
    t.true(matches(pattern, data));
  });
  test(`reference pattern "${key}" rejects a counter-example`, (t) => {
    if (key === 'f1') t.false(matches(pattern, {}));
    else if (key === 'f2') t.false(matches(pattern, { f2: 'present' }));
    else t.false(matches(pattern, { [dataKey]: referenceCounterExample[dataKey]! }));
  });
}

test('reference example: every key pair holds at once (AND across keys)', (t) => {
  t.true(matches(referencePattern, referenceExample));
  // Breaking any single key breaks the whole match.
  for (const key of Object.keys(referenceCounterExample)) {
    t.false(matches(referencePattern, { ...referenceExample, [key]: referenceCounterExample[key]! }), key);
  }
  t.false(matches(referencePattern, { ...referenceExample, f2: 1 }));
});

// ---- Rule semantics kept from the reference ----

test('an empty pattern matches everything', (t) => {
  t.true(matches({}, {}));
  t.true(matches({}, { a: 1 }));
  t.true(matches({}, 'not an object'));
});

test('exact values are JSON-equal: 1 equals 1.0, types differ otherwise', (t) => {
  t.true(matches({ a: 1 }, { a: 1.0 }));
  t.false(matches({ a: 1 }, { a: '1' }));
  t.false(matches({ a: true }, { a: 1 }));
  t.false(matches({ a: 'x' }, {}));
});

test('pattern null requires an explicit null, not a missing key', (t) => {
  t.true(matches({ a: null }, { a: null }));
  t.false(matches({ a: null }, {}));
});

test('a dotted key is a path, not a literal key', (t) => {
  t.true(matches({ 'a.b': 1 }, { a: { b: 1 } }));
  t.false(matches({ 'a.b': 1 }, { 'a.b': 1 }));
  t.false(matches({ 'a.b': 1 }, { a: 1 }));
  t.true(matches({ 'a.b.c': [{ prefix: 'x' }] }, { a: { b: { c: 'xyz' } } }));
});

test('lookups ignore inherited properties', (t) => {
  t.false(matches({ toString: [{ exists: true }] }, {}));
  t.true(matches({ constructor: [{ exists: false }] }, {}));
});

test('exists: true matches a present null; false matches only a missing key', (t) => {
  t.true(matches({ a: [{ exists: true }] }, { a: null }));
  t.false(matches({ a: [{ exists: true }] }, {}));
  t.false(matches({ a: [{ exists: false }] }, { a: null }));
});

test('a rule list is an OR of its rules', (t) => {
  const p = { a: [{ prefix: 'x' }, { numeric: ['>', 5] }, { exists: false }] };
  t.true(matches(p, { a: 'xy' }));
  t.true(matches(p, { a: 6 }));
  t.true(matches(p, {}));
  t.false(matches(p, { a: 'yx' }));
  t.false(matches(p, { a: 5 }));
});

test('anything-but fails on a missing key and compares JSON values', (t) => {
  t.false(matches({ a: [{ 'anything-but': 'x' }] }, {}));
  t.true(matches({ a: [{ 'anything-but': 1 }] }, { a: '1' }));
  t.false(matches({ a: [{ 'anything-but': [1, 'x'] }] }, { a: 1.0 }));
  t.true(matches({ a: [{ 'anything-but': { wildcard: 'a*' } }] }, { a: 'ba' }));
  t.false(matches({ a: [{ 'anything-but': { numeric: ['>', 3] } }] }, { a: 4 }));
  t.true(matches({ a: [{ 'anything-but': { 'equals-ignore-case': 'ABC' } }] }, { a: 'abd' }));
  t.false(matches({ a: [{ 'anything-but': { 'equals-ignore-case': 'ABC' } }] }, { a: 'aBc' }));
});

test('prefix, suffix, equals-ignore-case, numeric and wildcard reject non-matching types', (t) => {
  t.false(matches({ a: [{ prefix: '1' }] }, { a: 12 }));
  t.false(matches({ a: [{ suffix: '2' }] }, { a: 12 }));
  t.false(matches({ a: [{ 'equals-ignore-case': 'true' }] }, { a: true }));
  t.false(matches({ a: [{ numeric: ['>', 0] }] }, { a: '5' }));
  t.false(matches({ a: [{ wildcard: '*' }] }, { a: 5 }));
  t.true(matches({ a: [{ wildcard: '*' }] }, { a: '' }));
});

test('numeric supports every operator', (t) => {
  const check = (op: string, bound: number, value: number) => matches({ n: [{ numeric: [op, bound] }] }, { n: value });
  t.true(check('=', 3.5, 3.5));
  t.false(check('=', 3.5, 3.4));
  t.true(check('>', 1, 2));
  t.false(check('>', 2, 2));
  t.true(check('>=', 2, 2));
  t.false(check('>=', 2, 1.99));
  t.true(check('<', 2, 1));
  t.false(check('<', 2, 2));
  t.true(check('<=', 2, 2));
  t.false(check('<=', 2, 2.01));
});

test('wildcard matches the whole string and star runs may be empty', (t) => {
  const w = compileEventbridgePattern({ s: [{ wildcard: 'a*b*c' }] });
  t.true(w({ s: 'abc' }));
  t.true(w({ s: 'aXbYc' }));
  t.true(w({ s: 'abbbc' }));
  t.false(w({ s: 'abcd' }));
  t.false(w({ s: 'xabc' }));
  t.false(w({ s: 'ac' }));
  t.true(matches({ s: [{ wildcard: 'ab*ba' }] }, { s: 'aba' }) === false);
  t.true(matches({ s: [{ wildcard: 'ab*ba' }] }, { s: 'abba' }));
  t.true(matches({ s: [{ wildcard: 'exact' }] }, { s: 'exact' }));
  t.false(matches({ s: [{ wildcard: 'exact' }] }, { s: 'exactly' }));
});

test('$or inside a rule list applies its object patterns to the value (reference example j1)', (t) => {
  const p = { j1: [{ $or: [{ j1_1: [{ exists: true }] }, { j2_2: [{ exists: true }] }] }] };
  t.true(matches(p, { j1: { j1_1: 0 } }));
  t.true(matches(p, { j1: { j2_2: 123 } }));
  t.false(matches(p, { j1: {} }));
  t.false(matches(p, {}));
});

// ---- Reference bugs, fixed (API.md 7.1.11) ----

test('fixed: numeric parity check rejects odd-length and non-list operands', (t) => {
  const parity = 'Invalid Eventbridge "numeric" rule: pattern should be a list of even number of elements';
  badPattern(t, { a: [{ numeric: ['>'] }] }, parity);
  badPattern(t, { a: [{ numeric: ['>', 1, '<'] }] }, parity);
  badPattern(t, { a: [{ numeric: 5 }] }, parity);
  badPattern(t, { a: [{ numeric: { '>': 1 } }] }, parity);
  badPattern(t, { a: [{ numeric: [] }] }, 'Invalid Eventbridge "numeric" rule: pattern should not be empty');
});

test('fixed: wildcard escapes regular-expression metacharacters', (t) => {
  t.false(matches({ s: [{ wildcard: 'a.c' }] }, { s: 'abc' }));
  t.true(matches({ s: [{ wildcard: 'a.c' }] }, { s: 'a.c' }));
  t.false(matches({ s: [{ wildcard: 'a+' }] }, { s: 'aa' }));
  t.true(matches({ s: [{ wildcard: '(x)[y]{2}^$|?' }] }, { s: '(x)[y]{2}^$|?' }));
  t.true(matches({ s: [{ wildcard: 'a*.txt' }] }, { s: 'abc.txt' }));
  t.false(matches({ s: [{ wildcard: 'a*.txt' }] }, { s: 'abcxtxt' }));
  t.true(matches({ s: [{ wildcard: 'line*end' }] }, { s: 'line\nand the end' }));
});

test('wildcard escapes: \\* is a literal star, \\\\ a literal backslash', (t) => {
  t.true(matches({ s: [{ wildcard: 'a\\*b' }] }, { s: 'a*b' }));
  t.false(matches({ s: [{ wildcard: 'a\\*b' }] }, { s: 'axb' }));
  t.true(matches({ s: [{ wildcard: 'a\\\\*' }] }, { s: 'a\\zzz' }));
  t.false(matches({ s: [{ wildcard: 'a\\\\*' }] }, { s: 'azzz' }));
  t.true(matches({ s: [{ wildcard: 'c:\\dir' }] }, { s: 'c:\\dir' }));
});

test('wildcard on long inputs with many stars stays fast (no regex backtracking)', (t) => {
  const long = 'a'.repeat(100_000);
  t.false(matches({ s: [{ wildcard: 'a*a*a*a*a*a*a*a*a*a*b' }] }, { s: long }));
  t.true(matches({ s: [{ wildcard: 'a*a*a*a*a*a*a*a*a*a*a' }] }, { s: long }));
});

test('fixed: $or is accepted at the top level and in nested object patterns', (t) => {
  const p = { $or: [{ a: 1 }, { b: [{ prefix: 'x' }] }] };
  t.true(matches(p, { a: 1 }));
  t.true(matches(p, { b: 'xy' }));
  t.false(matches(p, { a: 2, b: 'yx' }));
  const withAnd = { c: true, $or: [{ a: 1 }, { b: 2 }] };
  t.true(matches(withAnd, { c: true, b: 2 }));
  t.false(matches(withAnd, { c: false, b: 2 }));
  const nested = { n: { $or: [{ a: 1 }, { b: 2 }] } };
  t.true(matches(nested, { n: { b: 2 } }));
  t.false(matches(nested, { n: { b: 3 } }));
});

test('fixed: array-valued data is matched element by element', (t) => {
  t.true(matches({ a: [1, 2] }, { a: [2, 3] }));
  t.false(matches({ a: [1, 2] }, { a: [3, 4] }));
  t.true(matches({ a: 'x' }, { a: ['y', 'x'] }));
  t.true(matches({ a: [{ prefix: 'p' }] }, { a: ['q', 'pz'] }));
  t.true(matches({ a: [{ numeric: ['>', 10] }] }, { a: [1, 20] }));
  t.true(matches({ a: [{ 'anything-but': 'x' }] }, { a: ['x', 'y'] }));
  t.false(matches({ a: [{ 'anything-but': 'x' }] }, { a: ['x', 'x'] }));
  t.false(matches({ a: 'x' }, { a: [] }));
  t.true(matches({ a: 'x' }, { a: [['x']] }));
  // Objects inside arrays are matched one by one, through nested patterns and dotted paths alike.
  t.true(matches({ a: { b: 2 } }, { a: [{ b: 1 }, { b: 2 }] }));
  t.true(matches({ 'a.b': 2 }, { a: [{ b: 1 }, { b: 2 }] }));
  t.false(matches({ 'a.b': 3 }, { a: [{ b: 1 }, { b: 2 }] }));
});

test('fixed: {"exists": false} under a missing parent matches', (t) => {
  t.true(matches({ a: { b: [{ exists: false }] } }, {}));
  t.true(matches({ 'a.b': [{ exists: false }] }, {}));
  t.true(matches({ a: { b: [{ exists: false }] } }, { a: 5 }));
  t.false(matches({ a: { b: [{ exists: false }] } }, { a: { b: null } }));
  t.false(matches({ a: { b: [{ exists: true }] } }, {}));
  t.false(matches({ a: { b: 1 } }, {}));
});

// ---- Malformed patterns: BAD_CONFIG with the reference's messages ----

test('malformed patterns report the reference messages', (t) => {
  badPattern(t, 'x', 'Invalid Eventbridge pattern: expected object');
  badPattern(t, [], 'Invalid Eventbridge pattern: expected object');
  badPattern(t, { a: [{ prefix: 'x', suffix: 'y' }] }, 'Invalid Eventbridge pattern: each rule can only have one statement');
  badPattern(t, { a: [{}] }, 'Invalid Eventbridge pattern: each rule can only have one statement');
  badPattern(t, { a: [1, { prefix: 'x' }] }, 'Invalid Eventbridge pattern: cannot mix primitives with complex conditions');
  badPattern(t, { a: [{ prefix: 'x' }, 1] }, 'Invalid Eventbridge pattern: cannot mix primitives with complex conditions');
  badPattern(t, { a: [[1]] }, 'Invalid Eventbridge pattern: expected object or primitive');
  badPattern(t, { a: [{ exists: 'yes' }] }, 'Invalid Eventbridge "exists" rule: expected boolean value');
  badPattern(t, { a: [{ 'anything-but': [1, [2]] }] }, 'Invalid Eventbridge "anything-but" rule: list should contain only primitive types');
  badPattern(t, { a: [{ prefix: 5 }] }, 'Invalid Eventbridge "prefix" rule: pattern should be a string, a list, or an object');
  badPattern(t, { a: [{ suffix: true }] }, 'Invalid Eventbridge "suffix" rule: pattern should be a string, a list, or an object');
  badPattern(t, { a: [{ prefix: ['a', 1] }] }, 'Invalid Eventbridge "prefix" rule: list of prefixes should contain only strings');
  badPattern(t, { a: [{ prefix: { foo: 'a' } }] }, 'Invalid Eventbridge "prefix" rule: only "equals-ignore-case" is allowed as sub-pattern');
  badPattern(t, { a: [{ suffix: { 'equals-ignore-case': ['a', 2] } }] }, 'Invalid Eventbridge "suffix" rule: list in "equals-ignore-case" should contain only strings');
  badPattern(t, { a: [{ suffix: { 'equals-ignore-case': 2 } }] }, 'Invalid Eventbridge "suffix" rule: "equals-ignore-case" should be a string or a list of strings');
  badPattern(t, { a: [{ 'equals-ignore-case': 3 }] }, 'Invalid Eventbridge "equals-ignore-case" rule: pattern should be a string or a list of strings');
  badPattern(t, { a: [{ 'equals-ignore-case': ['a', null] }] }, 'Invalid Eventbridge "equals-ignore-case" rule: list should contain only strings');
  badPattern(t, { a: [{ numeric: [1, 1] }] }, 'Invalid Eventbridge "numeric" rule: operator should be a string');
  badPattern(t, { a: [{ numeric: ['>', '1'] }] }, 'Invalid Eventbridge "numeric" rule: operand should be a number');
  badPattern(t, { a: [{ numeric: ['!=', 1] }] }, 'Invalid Eventbridge "numeric" rule: unknown operator "!="');
  badPattern(t, { a: [{ wildcard: 1 }] }, 'Invalid Eventbridge "wildcard" rule: pattern should be a string');
  badPattern(t, { a: [{ $or: {} }] }, 'Invalid Eventbridge "$or" rule: pattern should be a list of objects');
  badPattern(t, { $or: [1] }, 'Invalid Eventbridge "$or" rule: pattern should be a list of objects');
  badPattern(t, { a: [{ foo: 1 }] }, 'Invalid Eventbridge pattern: unexpected rule: {"foo":1}');
  badPattern(t, { a: [{ 'anything-but': { exists: true } }] }, 'Invalid Eventbridge pattern: unexpected rule: {"exists":true}');
  // Errors deep inside nested patterns surface too.
  badPattern(t, { a: { b: { c: [{ numeric: ['>'] }] } } }, /numeric/);
});

test('empty lists are rejected instead of never matching', (t) => {
  badPattern(t, { a: [] }, 'Invalid Eventbridge pattern: an empty list of values never matches');
  badPattern(t, { a: [{ prefix: [] }] }, 'Invalid Eventbridge "prefix" rule: an empty list never matches');
  badPattern(t, { a: [{ suffix: { 'equals-ignore-case': [] } }] }, 'Invalid Eventbridge "suffix" rule: an empty list never matches');
  badPattern(t, { a: [{ 'equals-ignore-case': [] }] }, 'Invalid Eventbridge "equals-ignore-case" rule: an empty list never matches');
  badPattern(t, { $or: [] }, 'Invalid Eventbridge "$or" rule: pattern should not be empty');
  // anything-but of nothing is "anything": a present value matches.
  t.true(matches({ a: [{ 'anything-but': [] }] }, { a: 1 }));
});

// ---- Properties ----

const leaf = fc.oneof(fc.string({ maxLength: 4 }), fc.integer({ min: -3, max: 3 }), fc.boolean(), fc.constant(null));
const smallJson = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('value'), { maxLength: 3 }), tie('object')),
  object: fc.dictionary(fc.constantFrom('a', 'b', 'c'), tie('value'), { maxKeys: 3 }),
})).value as fc.Arbitrary<JsonValue>;

test('property: a dotted key behaves exactly like the nested object pattern', (t) => {
  fc.assert(
    fc.property(leaf, smallJson, (expected, data) => {
      const dotted = matches({ 'a.b': expected }, data);
      const nested = matches({ a: { b: expected } }, data);
      const existsDotted = matches({ 'a.b': [{ exists: false }] }, data);
      const existsNested = matches({ a: { b: [{ exists: false }] } }, data);
      return dotted === nested && existsDotted === existsNested;
    }),
  );
  t.pass();
});

test('property: on a present non-array value, anything-but X is the negation of X', (t) => {
  fc.assert(
    fc.property(leaf, fc.array(leaf, { minLength: 1, maxLength: 3 }), leaf, (x, xs, value) => {
      const data = { k: value };
      return (
        matches({ k: [{ 'anything-but': x }] }, data) === !matches({ k: x }, data) &&
        matches({ k: [{ 'anything-but': xs }] }, data) === !matches({ k: xs }, data)
      );
    }),
  );
  t.pass();
});

test('property: a wildcard without stars is string equality, and "*"-joined parts match their concatenation', (t) => {
  const text = fc.string({ maxLength: 6 }).map((s) => s.replace(/[*\\]/g, ''));
  fc.assert(
    fc.property(fc.array(text, { minLength: 1, maxLength: 4 }), fc.array(text, { minLength: 4, maxLength: 4 }), (parts, fillers) => {
      const glob = parts.join('*');
      const subject = parts.map((p, i) => (i === 0 ? p : fillers[i - 1] + p)).join('');
      return matches({ s: [{ wildcard: glob }] }, { s: subject }) && (parts.length > 1 || matches({ s: [{ wildcard: glob }] }, { s: glob }));
    }),
  );
  t.pass();
});
