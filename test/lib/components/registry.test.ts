import test from 'ava';
import { DiasporaError, ErrorCode, InvalidMetadata } from '../../../lib/errors.js';
import type { JsonObject, JsonValue } from '../../../lib/json.js';
import {
  partitionSelectorFromMetadata,
  registerPartitionSelector,
  registerSerializer,
  registerValidator,
  registeredComponents,
  serializerFromMetadata,
  validatorFromMetadata,
} from '../../../lib/components/registry.js';
import { DefaultSerializer } from '../../../lib/components/serializer.js';

test('built-in components are registered', (t) => {
  t.deepEqual(registeredComponents('validator'), ['default', 'eventbridge', 'schema']);
  t.deepEqual(registeredComponents('serializer'), ['default', 'schema']);
  t.deepEqual(registeredComponents('partition-selector'), ['default']);
  t.throws(() => registeredComponents('driver' as never), { instanceOf: TypeError });
});

test('a validator registered by name is built with the whole config', async (t) => {
  const seen: JsonObject[] = [];
  registerValidator('max-length', (config) => {
    seen.push(config);
    const max = config.max as number;
    return {
      validate(md: JsonValue) {
        if (JSON.stringify(md).length > max) throw new InvalidMetadata('too long');
      },
      metadata: () => ({ ...config }),
    };
  });
  const v = await validatorFromMetadata({ type: 'max-length', max: 10 });
  t.deepEqual(seen, [{ type: 'max-length', max: 10 }]);
  t.notThrows(() => v.validate({ a: 1 }));
  t.throws(() => v.validate({ a: 'long enough' }), { instanceOf: InvalidMetadata });
  t.deepEqual(v.metadata(), { type: 'max-length', max: 10 });
  t.true(registeredComponents('validator').includes('max-length'));
});

test('serializers and partition selectors register by name too', async (t) => {
  registerSerializer('upper-json', () => {
    const inner = new DefaultSerializer();
    return {
      serialize: (md: JsonValue) => inner.serialize(md),
      deserialize: (b: Uint8Array) => inner.deserialize(b),
      metadata: () => ({ type: 'upper-json' }),
    };
  });
  const s = await serializerFromMetadata({ type: 'upper-json' });
  t.deepEqual(s.deserialize(s.serialize({ x: 1 })), { x: 1 });
  registerPartitionSelector('zero', () => ({
    setPartitions() {},
    selectPartitionFor: () => 0,
    metadata: () => ({ type: 'zero' }),
  }));
  const p = await partitionSelectorFromMetadata({ type: 'zero' });
  t.is(p.selectPartitionFor({}), 0);
});

test('the last registration of a name wins', async (t) => {
  const make = (tag: string) => () => ({ validate() {}, metadata: () => ({ type: 'twice', tag }) });
  registerValidator('twice', make('first'));
  registerValidator('twice', make('second'));
  t.is((await validatorFromMetadata({ type: 'twice' })).metadata().tag, 'second');
});

test('registration arguments are checked', (t) => {
  const factory = () => ({ validate() {}, metadata: () => ({}) });
  for (const name of ['', 'a:b', 3, undefined]) {
    t.throws(() => registerValidator(name as string, factory), { instanceOf: TypeError });
  }
  t.throws(() => registerSerializer('x', 'not a function' as never), { instanceOf: TypeError });
});

test('a factory returning something that is not a component is a TypeError', async (t) => {
  registerValidator('broken', () => ({ metadata: () => ({}) }) as never);
  const err = await t.throwsAsync(validatorFromMetadata({ type: 'broken' }), { instanceOf: TypeError });
  t.regex(err?.message ?? '', /does not implement Validator/);
});

test('a factory error keeps its code; a plain Error becomes BAD_CONFIG', async (t) => {
  registerValidator('throws-plain', () => {
    throw new Error('missing option "x"');
  });
  const plain = await t.throwsAsync(validatorFromMetadata({ type: 'throws-plain' }), { instanceOf: DiasporaError });
  t.is(plain?.code, ErrorCode.BAD_CONFIG);
  t.regex(plain?.message ?? '', /missing option "x"/);
  registerValidator('throws-typed', () => {
    throw new DiasporaError(ErrorCode.UNSUPPORTED, 'nope');
  });
  const typed = await t.throwsAsync(validatorFromMetadata({ type: 'throws-typed' }), { instanceOf: DiasporaError });
  t.is(typed?.code, ErrorCode.UNSUPPORTED);
});

test('a registered name is used without importing the module of "name:path"', async (t) => {
  const v = await validatorFromMetadata({ type: 'default:/no/such/module.js' });
  t.deepEqual(v.metadata(), { type: 'default' });
});

test('malformed "name:path" types are BAD_CONFIG', async (t) => {
  for (const type of [':x.js', 'name-only-missing-path:']) {
    const err = await t.throwsAsync(validatorFromMetadata({ type }), { instanceOf: DiasporaError });
    t.is(err?.code, ErrorCode.BAD_CONFIG);
  }
});

test('every built-in metadata() round-trips through ...FromMetadata (as persisted JSON)', async (t) => {
  const persist = (v: JsonObject) => JSON.parse(JSON.stringify(v)) as JsonValue;
  const validatorConfigs: JsonValue[] = [
    undefined as unknown as JsonValue,
    { type: 'schema', schema: { type: 'object', required: ['a'] } },
    { type: 'eventbridge', schema: { a: [{ numeric: ['>', 1] }] } },
  ];
  for (const config of validatorConfigs) {
    const v = await validatorFromMetadata(config);
    const again = await validatorFromMetadata(persist(v.metadata()));
    t.deepEqual(again.metadata(), v.metadata());
    t.is(again.constructor, v.constructor);
  }
  for (const config of [{}, { type: 'schema', schema: { type: 'object' } }] as JsonValue[]) {
    const s = await serializerFromMetadata(config);
    const again = await serializerFromMetadata(persist(s.metadata()));
    t.deepEqual(again.metadata(), s.metadata());
    t.is(again.constructor, s.constructor);
  }
  const p = await partitionSelectorFromMetadata({});
  t.deepEqual((await partitionSelectorFromMetadata(persist(p.metadata()))).metadata(), { type: 'default' });
});
