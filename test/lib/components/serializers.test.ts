import fs from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import test from 'ava';
import fc from 'fast-check';
import mmapModule from 'mmap-io';
import { DiasporaError, ErrorCode, InvalidMetadata } from '../../../lib/errors.js';
import type { JsonValue } from '../../../lib/json.js';
import { serializerFromMetadata } from '../../../lib/components/registry.js';
import { DefaultSerializer } from '../../../lib/components/serializer.js';
import { SchemaSerializer } from '../../../lib/components/schema-serializer.js';
import { tempDir } from '../../temp-dir.js';

// mmap-io is CommonJS: the default import is the module object or the API itself depending on the loader.
const mmap = ((mmapModule as unknown as { default?: typeof mmapModule }).default ?? mmapModule) as unknown as {
  map(size: number, prot: number, flags: number, fd: number, offset?: number): Buffer;
  PROT_READ: number;
  MAP_SHARED: number;
};

const personSchema = { type: 'object', properties: { name: { type: 'string' }, age: { type: 'number' } } };

// Items 113-116 of the reference's Python tests.

test('default serializer from no config or type "default"', async (t) => {
  for (const config of [undefined, {}, { type: 'default' }] as Array<JsonValue | undefined>) {
    const s = await serializerFromMetadata(config);
    t.true(s instanceof DefaultSerializer);
    t.deepEqual(s.metadata(), { type: 'default' });
  }
});

test('schema serializer from an object schema (item 114)', async (t) => {
  const s = await serializerFromMetadata({ type: 'schema', schema: personSchema });
  t.true(s instanceof SchemaSerializer);
  t.deepEqual(s.metadata(), { type: 'schema', schema: personSchema });
});

test('schema serializer configuration errors (item 115)', async (t) => {
  const missing = await t.throwsAsync(serializerFromMetadata({ type: 'schema' }), { instanceOf: DiasporaError });
  t.is(missing?.code, ErrorCode.BAD_CONFIG);
  t.is(missing?.message, 'SchemaSerializer is expecting a "schema" entry in its configuration');
  const notObject = await t.throwsAsync(serializerFromMetadata({ type: 'schema', schema: 'not-an-object' }), {
    instanceOf: DiasporaError,
  });
  t.is(notObject?.code, ErrorCode.BAD_CONFIG);
  t.regex(notObject?.message ?? '', /^Invalid JSON schema for SchemaSerializer/);
});

test('unknown serializer type (item 116) and malformed configs', async (t) => {
  const unknown = await t.throwsAsync(serializerFromMetadata({ type: 'unknown' }), { instanceOf: DiasporaError });
  t.is(unknown?.code, ErrorCode.UNKNOWN_COMPONENT);
  const notObject = await t.throwsAsync(serializerFromMetadata([] as JsonValue), { instanceOf: DiasporaError });
  t.is(notObject?.message, 'Cannot create Serializer from Metadata: invalid Metadata (expected JSON object)');
  const badType = await t.throwsAsync(serializerFromMetadata({ type: null }), { instanceOf: DiasporaError });
  t.is(badType?.message, 'Cannot create Serializer from Metadata: invalid "type" field in Metadata (expected string)');
});

test('default wire format is compact UTF-8 JSON', (t) => {
  const s = new DefaultSerializer();
  const bytes = s.serialize({ b: 1, a: [true, null, 'é'], c: 2.5 });
  t.true(bytes instanceof Uint8Array);
  t.is(Buffer.from(bytes).toString('utf8'), '{"b":1,"a":[true,null,"é"],"c":2.5}');
  t.deepEqual(s.deserialize(Buffer.from('{"x":1,"y":2.3}')), { x: 1, y: 2.3 });
  t.is(Buffer.from(s.serialize('abcd')).toString(), '"abcd"');
});

test('schema serializer keeps the default wire format', async (t) => {
  const schema = await serializerFromMetadata({ type: 'schema', schema: personSchema });
  const plain = new DefaultSerializer();
  const md = { name: 'Alice', age: 30 };
  t.deepEqual(Buffer.from(schema.serialize(md)), Buffer.from(plain.serialize(md)));
  t.deepEqual(schema.deserialize(plain.serialize(md)), md);
});

test('schema serializer rejects non-compliant metadata with InvalidMetadata', async (t) => {
  const s = await serializerFromMetadata({ type: 'schema', schema: personSchema });
  const err = t.throws(() => s.serialize({ name: 42 }), { instanceOf: InvalidMetadata });
  t.is(err?.code, ErrorCode.INVALID_METADATA);
  t.regex(err?.message ?? '', /'\/name' - '42': must be string/);
});

test('property: any JSON value round-trips through both serializers', async (t) => {
  const plain = new DefaultSerializer();
  const anySchema = await serializerFromMetadata({ type: 'schema', schema: {} });
  fc.assert(
    fc.property(fc.jsonValue(), (value) => {
      const expected = JSON.parse(JSON.stringify(value)) as JsonValue; // -0 becomes 0, as JSON does
      return (
        isDeepStrictEqual(plain.deserialize(plain.serialize(value as JsonValue)), expected) &&
        isDeepStrictEqual(anySchema.deserialize(anySchema.serialize(value as JsonValue)), expected)
      );
    }),
  );
  t.pass();
});

test('deserialize reads a slice of a larger buffer without reading outside it', (t) => {
  const s = new DefaultSerializer();
  const backing = new Uint8Array(64).fill(0x20);
  const text = new TextEncoder().encode('{"k":"v"}');
  backing.set(text, 10);
  backing[9] = 0x7b; // a stray '{' just before the slice
  backing[19] = 0x7d; // and a stray '}' just after it
  t.deepEqual(s.deserialize(backing.subarray(10, 10 + text.length)), { k: 'v' });
  t.deepEqual(s.deserialize(new Uint8Array(backing.buffer, 10, text.length)), { k: 'v' });
});

test('deserialize reads a slice of a memory-mapped file', (t) => {
  const dir = tempDir(t, 'components-mmap-');
  const s = new DefaultSerializer();
  const events: JsonValue[] = [{ index: 0 }, { index: 1, name: 'ünïcode' }, { index: 2, list: [1, 2, 3] }];
  const encoded = events.map((e) => s.serialize(e));
  const file = path.join(dir, 'metadata');
  fs.writeFileSync(file, Buffer.concat(encoded));
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const mapped = mmap.map(size, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0);
    let offset = 0;
    for (let i = 0; i < events.length; i++) {
      const slice = new Uint8Array(mapped.buffer, mapped.byteOffset + offset, encoded[i]!.byteLength);
      t.deepEqual(s.deserialize(slice), events[i]);
      offset += encoded[i]!.byteLength;
    }
  } finally {
    fs.closeSync(fd);
  }
});

test('bad bytes are BAD_JSON', (t) => {
  const s = new DefaultSerializer();
  for (const text of ['', '{"x":', 'not json', '{"a":1}{']) {
    const err = t.throws(() => s.deserialize(Buffer.from(text)), { instanceOf: DiasporaError });
    t.is(err?.code, ErrorCode.BAD_JSON);
    t.regex(err?.message ?? '', /^Could not deserialize Serializer metadata: /);
  }
  const invalidUtf8 = t.throws(() => s.deserialize(Uint8Array.of(0x22, 0xff, 0xfe, 0x22)), { instanceOf: DiasporaError });
  t.is(invalidUtf8?.code, ErrorCode.BAD_JSON);
  t.is(invalidUtf8?.message, 'Could not deserialize Serializer metadata: invalid UTF-8');
  t.throws(() => s.deserialize('{}' as unknown as Uint8Array), { instanceOf: TypeError });
});

test('values JSON cannot represent are TypeErrors', (t) => {
  const s = new DefaultSerializer();
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  for (const bad of [undefined, () => 1, Symbol('s'), 10n, { big: 1n }, cyclic]) {
    const err = t.throws(() => s.serialize(bad as unknown as JsonValue), { instanceOf: TypeError });
    t.regex(err?.message ?? '', /^Cannot serialize metadata: /);
  }
});
