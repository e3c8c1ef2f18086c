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

for (const type of DRIVER_TYPES) {
  test(`${type}: data detached after push() and before its batch is written: those pushes reject with a TypeError, flush() reports it, the rest of the batch is stored`, async (t) => {
    const { topic } = await freshTopic(t, type);
    const p = topic.producer({ batchSize: 100 });
    const data = new Uint8Array(8).fill(7);
    const piece = new Uint8Array(4).fill(9);
    const metadata = Buffer.from('{"k":"M"}');
    const live = new Uint8Array(metadata.length);
    live.set(metadata);
    const a = p.push({ k: 'A' }, Buffer.from('a'));
    const b = p.push({ k: 'B' }, data);
    const c = p.push(live);
    const d = p.push({ k: 'D' }, [Buffer.from('x'), piece]);
    const e = p.push({ k: 'E' });
    for (const bytes of [data, live, piece]) structuredClone(bytes.buffer, { transfer: [bytes.buffer] });
    const flushed = await p.flush().then(() => null, (err: unknown) => err);
    t.true(flushed instanceof TypeError, `flush() reports the lost pushes: ${String(flushed)}`);
    t.regex((flushed as Error).message, /detached/);
    const results = await Promise.allSettled([a, b, c, d, e].map((f) => f.wait()));
    // Metadata bytes are copied by push() (detaching them later changes nothing); data is kept by reference.
    t.deepEqual(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).constructor.name)), [0, 'TypeError', 1, 'TypeError', 2]);
    t.deepEqual(await storedEvents(topic), ['0:0 {"k":"A"}', '0:1 {"k":"M"}', '0:2 {"k":"E"}']);
    // Reported once: the next flush has nothing to report.
    const f = p.push({ k: 'F' });
    await p.flush();
    t.is(await f, 3);
    await p.close();
  });
}
