// createTopic with component instances: the config an instance's metadata() gives is what the topic stores, and it
// is rebuilt at creation exactly as openTopic rebuilds it, so no topic is created that could never open, or that
// would silently run another component than the instance given.
import test from 'ava';
import fs from 'node:fs';
import {
  DefaultValidator,
  DiasporaError,
  Driver,
  ErrorCode,
  InvalidMetadata,
  registerValidator,
  validatorFromMetadata,
  type JsonValue,
  type Validator,
} from '../../lib/index.js';
import { tempDir } from '../temp-dir.js';

// A registered validator whose instances createTopic accepts: its metadata() names the factory that rebuilds it.
registerValidator('only-even', (config) => ({
  validate(md: JsonValue) {
    if ((md as { n: number }).n % 2 !== 0) throw new InvalidMetadata('n must be even');
  },
  metadata: () => ({ ...config }),
}));

const anInstance = (metadata: () => unknown): Validator => ({ validate() {}, metadata } as Validator);

test('an instance whose metadata() could not be stored or rebuilt is BAD_CONFIG, and nothing is created', async (t) => {
  const root = tempDir(t, 'diaspora-driver-');
  const driver = await Driver.create('files', { root_path: root });
  t.teardown(() => driver.close());
  const cycle: Record<string, unknown> = { type: 'default' };
  cycle.self = cycle;
  const cases: Array<[string, () => unknown, RegExp]> = [
    ['not an object', () => 5, /could not rebuild.*expected JSON object/],
    ['invalid schema', () => ({ type: 'schema', schema: { type: 'objekt' } }), /could not rebuild.*Invalid JSON schema/],
    ['NaN in the config', () => ({ type: 'schema', schema: { maximum: NaN } }), /metadata\(\)\.schema\.maximum is NaN/],
    ['unknown type', () => ({ type: 'nonexistent' }), /could not rebuild.*Unknown Validator type "nonexistent"/],
    ['metadata() throws', () => { throw new Error('boom'); }, /metadata\(\) threw: boom/],
    ['undefined', () => undefined, /metadata\(\) is undefined/],
    ['a cycle', () => cycle, /circular/],
    ['names the default type', () => ({ type: 'default' }), /builds DefaultValidator, which the topic would run instead/],
    ['names a built-in it is not', () => ({ type: 'schema', schema: {} }), /builds SchemaValidator/],
  ];
  for (const [what, metadata, message] of cases) {
    const err = await t.throwsAsync(driver.createTopic('t', { validator: anInstance(metadata) }), undefined, what);
    t.true(err instanceof DiasporaError && err.code === ErrorCode.BAD_CONFIG, `${what}: ${String(err)}`);
    t.regex(err!.message, message, what);
  }
  t.false(await driver.topicExists('t'));
  t.deepEqual(fs.readdirSync(root), []);
});

test('an instance the registry rebuilds is stored by its config, and the topic opens and runs it', async (t) => {
  const driver = await Driver.create('memory');
  t.teardown(() => driver.close());
  await driver.createTopic('even', { validator: await validatorFromMetadata({ type: 'only-even' }) });
  await driver.createTopic('schema', { validator: await validatorFromMetadata({ type: 'schema', schema: { required: ['n'] } }) });
  await driver.createTopic('plain', { validator: new DefaultValidator() });
  const topics = await driver.listTopics();
  t.deepEqual(topics.get('even')!.validator, { type: 'only-even' });
  t.deepEqual(topics.get('schema')!.validator, { type: 'schema', schema: { required: ['n'] } });
  const even = (await driver.openTopic('even')).producer();
  t.is(await even.push({ n: 2 }), 0);
  await t.throwsAsync(even.push({ n: 3 }), { instanceOf: InvalidMetadata });
  await t.throwsAsync((await driver.openTopic('schema')).producer().push({}), { instanceOf: InvalidMetadata });
});

test('a null component or options object is a TypeError saying what is expected', async (t) => {
  const driver = await Driver.create('memory');
  t.teardown(() => driver.close());
  await t.throwsAsync(driver.createTopic('t', { validator: null } as never), { instanceOf: TypeError, message: /validator must be a component instance, a config object or a type name/ });
  await t.throwsAsync(driver.createTopic('t', { options: null } as never), { instanceOf: TypeError, message: /topic options must be an object, got null/ });
  t.false(await driver.topicExists('t'));
});
