// What push() checks for each event on its own, so that one bad event never fails the other pushes of its batch,
// and the memory and files drivers store (or refuse) the same events.
import test from 'ava';
import {
  DiasporaError,
  ErrorCode,
  InvalidMetadata,
  registerPartitionSelector,
  registerSerializer,
  registerValidator,
  type JsonValue,
} from '../../lib/index.js';
import { MAX_EVENT_PART_BYTES } from '../../storage/partition-core/batch-check.js';
import { DRIVER_TYPES, freshTopic, storedEvents } from './both-drivers.js';

const isCode = (code: ErrorCode) => (e: unknown): boolean => e instanceof DiasporaError && e.code === code;

// Stores every value as one byte more than the limit (calloc'd, so the pages are never touched).
registerSerializer('oversize', () => ({
  serialize: () => new Uint8Array(MAX_EVENT_PART_BYTES + 1),
  deserialize: () => null,
  metadata: () => ({ type: 'oversize' }),
}));

// Writes every event into one buffer it hands out each time (as a serializer reusing a scratch buffer does).
const scratch = Buffer.alloc(16);
registerSerializer('scratch', () => ({
  serialize(md: JsonValue) {
    scratch.fill(0x20);
    scratch.write(JSON.stringify(md));
    return scratch;
  },
  deserialize: (b: Uint8Array) => JSON.parse(Buffer.from(b).toString()) as JsonValue,
  metadata: () => ({ type: 'scratch' }),
}));
// Serializers returning what the engines cannot store.
for (const [name, out] of [['text-out', () => '{}'], ['uint16-out', () => new Uint16Array([1])]] as const) {
  registerSerializer(name, () => ({ serialize: out as never, deserialize: () => null, metadata: () => ({ type: name }) }));
}
// Components answering with a promise (rejected or not): components are synchronous.
registerValidator('async-refuse', () => ({
  validate: (async () => {
    throw new InvalidMetadata('refused later');
  }) as never,
  metadata: () => ({ type: 'async-refuse' }),
}));
registerPartitionSelector('async-select', () => ({
  setPartitions() {},
  selectPartitionFor: (async () => {
    throw new Error('selected later');
  }) as never,
  metadata: () => ({ type: 'async-select' }),
}));
registerSerializer('async-serialize', () => ({
  serialize: (() => Promise.reject(new Error('serialized later'))) as never,
  deserialize: () => null,
  metadata: () => ({ type: 'async-serialize' }),
}));

for (const type of DRIVER_TYPES) {
  test(`${type}: data over the part limit rejects its own push with EVENT_TOO_LARGE, not its neighbours`, async (t) => {
    const { topic } = await freshTopic(t, type);
    const p = topic.producer();
    // 1025 references to one MiB: the limit is passed without allocating it.
    const mib = Buffer.alloc(1 << 20, 1);
    const huge = Array.from({ length: MAX_EVENT_PART_BYTES / mib.length + 1 }, () => mib);
    const results = await Promise.allSettled([p.push({ k: 'A' }, Buffer.from('a')), p.push({ k: 'HUGE' }, huge), p.push({ k: 'B' })]);
    t.deepEqual(results[0], { status: 'fulfilled', value: 0 });
    t.true(results[1].status === 'rejected' && isCode(ErrorCode.EVENT_TOO_LARGE)(results[1].reason));
    t.deepEqual(results[2], { status: 'fulfilled', value: 1 });
    t.deepEqual(await storedEvents(topic), ['0:0 {"k":"A"}', '0:1 {"k":"B"}']);
  });

  test(`${type}: serialized metadata over the part limit is EVENT_TOO_LARGE for that push only`, async (t) => {
    const { driver, topic } = await freshTopic(t, type);
    await driver.createTopic('big', { serializer: 'oversize' });
    const big = await driver.openTopic('big');
    const err = await t.throwsAsync(big.producer().push({ any: 1 } as JsonValue));
    t.true(isCode(ErrorCode.EVENT_TOO_LARGE)(err), String(err));
    t.is((await big.stats()).partitions[0]!.events, 0);
    t.deepEqual(await storedEvents(topic), []);
  });
}

for (const type of DRIVER_TYPES) {
  test(`${type}: a serializer reusing its output buffer still stores each event's own bytes`, async (t) => {
    const { topic } = await freshTopic(t, type, { serializer: 'scratch' });
    const p = topic.producer();
    t.deepEqual(await Promise.all([p.push({ n: 1 }), p.push({ n: 2 }), p.push({ n: 3 })]), [0, 1, 2]);
    t.deepEqual(await storedEvents(topic), ['0:0 {"n":1}', '0:1 {"n":2}', '0:2 {"n":3}']);
  });

  test(`${type}: a serializer output that is not a Uint8Array is a TypeError thrown by push(), nothing stored`, async (t) => {
    const { driver, topic } = await freshTopic(t, type);
    for (const serializer of ['text-out', 'uint16-out']) {
      await driver.createTopic(serializer, { serializer });
      const p = (await driver.openTopic(serializer)).producer();
      t.throws(() => p.push({ n: 1 }), { instanceOf: TypeError, message: /serialize\(\) must return a Uint8Array/ }, serializer);
      await p.flush();
      t.is((await (await driver.openTopic(serializer)).stats()).partitions[0]!.events, 0, serializer);
    }
    t.deepEqual(await storedEvents(topic), []);
  });
}

test('a validator, partition selector or serializer returning a promise: push() throws a TypeError, nothing is unhandled', async (t) => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  t.teardown(() => void process.off('unhandledRejection', onUnhandled));
  const { driver } = await freshTopic(t, 'memory');
  const specs = { validator: { validator: 'async-refuse' }, partitionSelector: { partitionSelector: 'async-select' }, serializer: { serializer: 'async-serialize' } };
  for (const [kind, spec] of Object.entries(specs)) {
    await driver.createTopic(kind, spec);
    const topic = await driver.openTopic(kind);
    t.throws(() => topic.producer().push({ n: 1 }), { instanceOf: TypeError, message: /returned a promise/ }, kind);
    t.is((await topic.stats()).partitions[0]!.events, 0, kind);
  }
  await new Promise((r) => setTimeout(r, 20)); // unhandled rejections are reported after the microtasks
  t.deepEqual(unhandled, []);
});
