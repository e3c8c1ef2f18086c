// The one-pass JSON text check used when metadata is pushed as text: it must accept exactly what JSON.parse accepts,
// minus what cannot be stored faithfully (lone surrogates, numbers beyond a double), and never build values.
import test from 'ava';
import fc from 'fast-check';
import { DiasporaError, ErrorCode } from '../../lib/index.js';
import { checkJsonBytes, checkJsonSyntax, isJsonSyntax } from '../../lib/json-text.js';

const accepts = (text: string): boolean => {
  try {
    checkJsonSyntax(Buffer.from(text, 'utf8'));
    return true;
  } catch (err) {
    if (!(err instanceof DiasporaError) || err.code !== ErrorCode.BAD_JSON) throw err;
    return false;
  }
};
const wellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();
/** What the check must decide: JSON.parse accepts it and the value is stored faithfully (finite, no lone surrogate). */
const storable = (text: string): boolean => {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return false;
  }
  const ok = (v: unknown): boolean =>
    typeof v === 'number' ? Number.isFinite(v)
    : typeof v === 'string' ? wellFormed(v)
    : Array.isArray(v) ? v.every(ok)
    : v !== null && typeof v === 'object' ? Object.entries(v).every(([k, x]) => wellFormed(k) && ok(x))
    : true;
  return ok(value);
};

test('every JSON value JSON.stringify writes (compact or indented) is accepted', (t) => {
  fc.assert(
    fc.property(fc.jsonValue(), fc.constantFrom(undefined, 1, '\t'), (value, indent) => {
      const text = JSON.stringify(value, null, indent);
      return accepts(text) && accepts(` \n${text}\r\n\t`);
    }),
    { numRuns: 500 },
  );
  t.pass();
});

test('agrees with JSON.parse on arbitrary and mutated texts', (t) => {
  const tricky = fc.constantFrom('1e999', '-1E+400', '"\\ud800"', '"\\udfff"', '"\\ud83d\\ude00"', '{"\\ud800":1}', '1e-999');
  const near = fc.oneof(fc.jsonValue().map((v) => JSON.stringify(v)), tricky).chain((s) => {
    return fc.tuple(fc.nat({ max: s.length }), fc.nat({ max: s.length }), fc.string({ maxLength: 3 })).map(
      ([a, b, ins]) => s.slice(0, Math.min(a, b)) + ins + s.slice(Math.max(a, b)),
    );
  });
  fc.assert(
    fc.property(fc.oneof(fc.string({ maxLength: 20 }), near), (text) => {
      // A raw lone surrogate cannot be encoded at all; MetadataArena.encodeJson refuses it (metadata-arena.test.ts).
      if (!wellFormed(text)) return true;
      return accepts(text) === storable(text);
    }),
    { numRuns: 3000 },
  );
  t.pass();
});

test('syntax errors are BAD_JSON naming the byte', (t) => {
  for (const [text, at] of [
    ['', 0], ['{', 1], ['{"a"}', 4], ['{"a":1,}', 7], ['[1,]', 3], ['[1 2]', 3], ['01', 1], ['1.', 1], ['.5', 0],
    ['-', 1], ['1e', 2], ['+1', 0], ['tru', 0], ['nul', 0], ['"abc', 4], ['"a\\x"', 2], ['"\\u12g4"', 1],
    ['{"a":1}}', 7], ['{} {}', 3], ["{'a':1}", 1], ['"tab\there"', 4], ['NaN', 0], ['Infinity', 0], ['[1,2', 4],
  ] as const) {
    const err = t.throws(() => checkJsonSyntax(Buffer.from(text)), { instanceOf: DiasporaError }, text);
    t.is(err?.code, ErrorCode.BAD_JSON, text);
    t.true(err?.message.endsWith(`at byte ${at}`), `${text}: ${err?.message}`);
  }
});

test('lone surrogates (escaped or raw) and numbers beyond a double are refused; pairs and big exact numbers pass', (t) => {
  t.false(accepts('"\\ud800"'));
  t.false(accepts('"\\udc00x"'));
  t.false(accepts('"\\ud800\\u0041"'));
  t.true(accepts('"\\ud83d\\ude00"'));
  t.false(accepts('1e400'));
  t.false(accepts('[-2E+309]'));
  t.false(accepts('1' + '0'.repeat(400)));
  t.true(accepts('1e308'));
  t.true(accepts('123456789012345678901234567890'));
  t.true(accepts('1e-400')); // underflows to 0, which is finite
});

test('bytes: invalid UTF-8 (overlong, truncated, encoded surrogate) is BAD_JSON; valid multi-byte text passes', (t) => {
  const quoted = (...b: number[]) => Uint8Array.from([0x22, ...b, 0x22]);
  for (const bytes of [quoted(0xc0, 0xaf), quoted(0xe2, 0x82), quoted(0xed, 0xa0, 0x80), quoted(0xff)]) {
    const err = t.throws(() => checkJsonBytes(bytes), { instanceOf: DiasporaError });
    t.is(err?.code, ErrorCode.BAD_JSON);
  }
  t.notThrows(() => checkJsonBytes(Buffer.from('{"é":"€😀"}')));
});

test('deep nesting is checked without recursion', (t) => {
  const depth = 200_000;
  t.notThrows(() => checkJsonSyntax(Buffer.from('['.repeat(depth) + ']'.repeat(depth))));
  t.notThrows(() => checkJsonSyntax(Buffer.from('{"a":'.repeat(depth) + '1' + '}'.repeat(depth))));
  t.throws(() => checkJsonSyntax(Buffer.from('['.repeat(depth) + ']'.repeat(depth - 1))), { instanceOf: DiasporaError });
  // The container stack is reused between calls: what a failed or deep scan left in it must not matter.
  t.throws(() => checkJsonSyntax(Buffer.from('[{"a":[' + '{"b":['.repeat(50))), { instanceOf: DiasporaError });
  t.notThrows(() => checkJsonSyntax(Buffer.from('[{"a":[1,{"b":2}]},3]')));
  t.throws(() => checkJsonSyntax(Buffer.from('[{"a":1]')), { instanceOf: DiasporaError });
  t.throws(() => checkJsonSyntax(Buffer.from('{"a":[1}')), { instanceOf: DiasporaError });
});

test('isJsonSyntax: true for what checkJsonSyntax accepts, false (no throw) for what it refuses', (t) => {
  for (const ok of ['{"a":[1,2.5,"é😀"]}', ' "x" ', 'null', `"${'z'.repeat(10_000)}"`, '"\\ud83d\\ude00"']) t.true(isJsonSyntax(Buffer.from(ok)), ok.slice(0, 20));
  for (const bad of ['{"a":', '{"a":1}x', '', '"\\ud800"', '1e400', '{"a":1,}']) t.false(isJsonSyntax(Buffer.from(bad)), bad);
});
