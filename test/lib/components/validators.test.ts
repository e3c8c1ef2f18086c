import test from 'ava';
import { DiasporaError, ErrorCode, InvalidMetadata } from '../../../lib/errors.js';
import type { JsonObject, JsonValue } from '../../../lib/json.js';
import { validatorFromMetadata } from '../../../lib/components/registry.js';
import { DefaultValidator } from '../../../lib/components/validator.js';
import { SchemaValidator } from '../../../lib/components/schema-validator.js';
import { EventbridgeValidator } from '../../../lib/components/eventbridge-validator.js';

const personSchema: JsonObject = {
  type: 'object',
  properties: { name: { type: 'string' }, age: { type: 'number' } },
};

async function rejectsConfig(t: import('ava').ExecutionContext, config: JsonValue, code: ErrorCode, message?: string) {
  const err = await t.throwsAsync(validatorFromMetadata(config), { instanceOf: DiasporaError });
  t.is(err?.code, code);
  if (message !== undefined) t.is(err?.message, message);
}

// Items 117-121 of the reference's Python tests.

test('default validator: from no config or type "default"; accepts everything', async (t) => {
  for (const config of [undefined, {}, { type: 'default' }] as Array<JsonValue | undefined>) {
    const v = await validatorFromMetadata(config);
    t.true(v instanceof DefaultValidator);
    t.deepEqual(v.metadata(), { type: 'default' });
    t.notThrows(() => v.validate({ anything: [1, 2] }));
    t.notThrows(() => v.validate('a string', new Uint8Array(3)));
  }
});

test('schema validator is built from an object schema', async (t) => {
  const v = await validatorFromMetadata({ type: 'schema', schema: personSchema });
  t.true(v instanceof SchemaValidator);
  t.notThrows(() => v.validate({ name: 'Alice', age: 3 }));
});

test('schema validator without a schema, or with a non-object schema, is BAD_CONFIG', async (t) => {
  await rejectsConfig(t, { type: 'schema' }, ErrorCode.BAD_CONFIG, 'SchemaValidator is expecting a "schema" entry in its configuration');
  await rejectsConfig(t, { type: 'schema', schema: 'not-an-object' }, ErrorCode.BAD_CONFIG);
  await rejectsConfig(t, { type: 'schema', schema: { type: 'no-such-type' } }, ErrorCode.BAD_CONFIG);
  await rejectsConfig(t, { type: 'schema', schema: { minimum: 'five' } }, ErrorCode.BAD_CONFIG);
  const err = await t.throwsAsync(validatorFromMetadata({ type: 'schema', schema: { type: 3 } }));
  t.regex(err?.message ?? '', /^Invalid JSON schema for SchemaValidator: /);
});

test('schema validator rejects with InvalidMetadata listing every violation, one per line', async (t) => {
  const v = await validatorFromMetadata({
    type: 'schema',
    schema: { ...personSchema, required: ['name'] },
  });
  const err = t.throws(() => v.validate({ age: 'old' }), { instanceOf: InvalidMetadata });
  t.is(err?.code, ErrorCode.INVALID_METADATA);
  const lines = err!.message.split('\n');
  t.is(lines[0], 'Metadata does not comply to required schema:');
  t.is(lines.length, 3);
  t.true(lines.includes(`'' - '{"age":"old"}': must have required property 'name'`));
  t.true(lines.includes(`'/age' - '"old"': must be number`));
  t.throws(() => v.validate('not an object'), { instanceOf: InvalidMetadata });
});

test('schema validator: draft-07 $schema, boolean schemas, $id reuse across validators', async (t) => {
  const draft7 = await validatorFromMetadata({
    type: 'schema',
    schema: { $schema: 'http://json-schema.org/draft-07/schema#', type: 'integer' },
  });
  t.notThrows(() => draft7.validate(3));
  t.throws(() => draft7.validate(3.5), { instanceOf: InvalidMetadata });
  const never = await validatorFromMetadata({ type: 'schema', schema: false });
  t.throws(() => never.validate({}), { instanceOf: InvalidMetadata });
  const always = await validatorFromMetadata({ type: 'schema', schema: true });
  t.notThrows(() => always.validate({}));
  const withId = { $id: 'https://example.com/s.json', type: 'string' };
  const a = await validatorFromMetadata({ type: 'schema', schema: withId });
  const b = await validatorFromMetadata({ type: 'schema', schema: withId });
  t.notThrows(() => a.validate('x'));
  t.throws(() => b.validate(1), { instanceOf: InvalidMetadata });
});

test('eventbridge validator is built from a pattern (item 119)', async (t) => {
  const v = await validatorFromMetadata({
    type: 'eventbridge',
    schema: { source: ['my.app'], 'detail-type': ['my-event'] },
  });
  t.true(v instanceof EventbridgeValidator);
  t.notThrows(() => v.validate({ source: 'my.app', 'detail-type': 'my-event' }));
  const err = t.throws(() => v.validate({ source: 'other.app', 'detail-type': 'my-event' }), {
    instanceOf: InvalidMetadata,
  });
  t.is(err?.message, 'Metadata object does not satisfy eventbridge pattern');
  t.is(err?.code, ErrorCode.INVALID_METADATA);
});

test('eventbridge validator creation errors (item 120)', async (t) => {
  await rejectsConfig(t, { type: 'eventbridge' }, ErrorCode.BAD_CONFIG, 'Metadata object does not contain a "schema" field for EventbridgeValidator');
  await rejectsConfig(t, { type: 'eventbridge', schema: 'not-an-object' }, ErrorCode.BAD_CONFIG, '"schema" field in EventbridgeValidator configuration should be an object');
  await rejectsConfig(t, { type: 'eventbridge', schema: [1] }, ErrorCode.BAD_CONFIG, '"schema" field in EventbridgeValidator configuration should be an object');
  await rejectsConfig(t, { type: 'eventbridge', schema: { a: [{ numeric: ['>'] }] } }, ErrorCode.BAD_CONFIG);
});

test('unknown validator type is UNKNOWN_COMPONENT (item 121)', async (t) => {
  const err = await t.throwsAsync(validatorFromMetadata({ type: 'unknown' }), { instanceOf: DiasporaError });
  t.is(err?.code, ErrorCode.UNKNOWN_COMPONENT);
  t.regex(err?.message ?? '', /Unknown Validator type "unknown".*default, eventbridge, schema/);
});

test('validator configuration errors use the reference wording', async (t) => {
  for (const config of [null, 'x', 3, [], true]) {
    await rejectsConfig(t, config as JsonValue, ErrorCode.BAD_CONFIG, 'Cannot create Validator from Metadata: invalid Metadata (expected JSON object)');
  }
  await rejectsConfig(t, { type: 3 }, ErrorCode.BAD_CONFIG, 'Cannot create Validator from Metadata: invalid "type" field in Metadata (expected string)');
});

test('metadata() rebuilds an equivalent validator and is not aliased to the caller\'s config', async (t) => {
  const pattern: JsonObject = { kind: [{ prefix: 'ok' }] };
  const config: JsonObject = { type: 'eventbridge', schema: pattern };
  const v = await validatorFromMetadata(config);
  pattern.kind = 'changed later';
  const persisted = JSON.parse(JSON.stringify(v.metadata())) as JsonValue;
  t.deepEqual(persisted, { type: 'eventbridge', schema: { kind: [{ prefix: 'ok' }] } });
  const rebuilt = await validatorFromMetadata(persisted);
  for (const md of [{ kind: 'ok1' }, { kind: 'no' }, {}] as JsonValue[]) {
    const verdict = (x: typeof v) => { try { x.validate(md); return true; } catch { return false; } };
    t.is(verdict(rebuilt), verdict(v));
  }
  const s = await validatorFromMetadata({ type: 'schema', schema: personSchema, note: 'kept' });
  t.deepEqual(s.metadata(), { type: 'schema', schema: personSchema, note: 'kept' });
  const s2 = await validatorFromMetadata(s.metadata());
  t.throws(() => s2.validate({ name: 1 }), { instanceOf: InvalidMetadata });
  const m = s.metadata();
  (m.schema as JsonObject).type = 'string';
  t.deepEqual(s.metadata().schema, personSchema);
});

test('validator classes can be built directly', (t) => {
  t.throws(() => new EventbridgeValidator(null as unknown as JsonObject), { code: ErrorCode.BAD_CONFIG });
  const v = new EventbridgeValidator({ schema: { a: 1 } });
  t.deepEqual(v.metadata(), { schema: { a: 1 }, type: 'eventbridge' });
  t.deepEqual(new SchemaValidator({ schema: true }).metadata(), { schema: true, type: 'schema' });
});
