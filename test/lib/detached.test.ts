// Data or metadata bytes whose ArrayBuffer was detached (transferred) cannot be written: push() refuses them at once
// with a TypeError, so they never join (and fail) a batch of other events; isDetached tells them from empty arrays.
import test from 'ava';
import { isDetached } from '../../lib/detached.js';
import { DataView } from '../../lib/index.js';
import { DRIVER_TYPES, freshTopic, storedEvents } from './both-drivers.js';

function detached(): Uint8Array {
  const bytes = new Uint8Array(16);
  structuredClone(bytes.buffer, { transfer: [bytes.buffer] });
  return bytes;
}

test('isDetached: only a transferred buffer, not an empty array or an empty view of a live buffer', (t) => {
  t.true(isDetached(detached()));
  t.false(isDetached(new Uint8Array(0)));
  t.false(isDetached(new Uint8Array(8).subarray(3, 3)));
  t.false(isDetached(Buffer.alloc(0)));
  t.false(isDetached(new Uint8Array(new SharedArrayBuffer(0))));
  t.false(isDetached(Buffer.from('abc')));
});

for (const type of DRIVER_TYPES) {
  test(`${type}: push() with detached data or metadata bytes throws a TypeError at once; its neighbours are stored`, async (t) => {
    const { topic } = await freshTopic(t, type);
    const p = topic.producer();
    const before = p.push({ k: 'A' }, Buffer.from('a'));
    for (const data of [detached(), [Buffer.from('x'), detached()], new DataView([detached()])]) {
      t.throws(() => p.push({ k: 'BAD' }, data), { instanceOf: TypeError, message: /detached/ });
    }
    t.throws(() => p.push(detached()), { instanceOf: TypeError, message: /metadata.*detached/ });
    const after = p.push({ k: 'B' });
    t.deepEqual(await Promise.all([before, after]), [0, 1]);
    t.deepEqual(await storedEvents(topic), ['0:0 {"k":"A"}', '0:1 {"k":"B"}']);
  });
}
