// What push() checks for each event on its own, so that one bad event never fails the other pushes of its batch,
// and the memory and files drivers store (or refuse) the same events.
import test from 'ava';
import { DiasporaError, ErrorCode, registerSerializer, type JsonValue } from '../../lib/index.js';
import { MAX_EVENT_PART_BYTES } from '../../storage/partition-core/batch-check.js';
import { DRIVER_TYPES, freshTopic, storedEvents } from './both-drivers.js';

const isCode = (code: ErrorCode) => (e: unknown): boolean => e instanceof DiasporaError && e.code === code;

// Stores every value as one byte more than the limit (calloc'd, so the pages are never touched).
registerSerializer('oversize', () => ({
  serialize: () => new Uint8Array(MAX_EVENT_PART_BYTES + 1),
  deserialize: () => null,
  metadata: () => ({ type: 'oversize' }),
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
