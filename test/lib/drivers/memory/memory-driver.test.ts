// The memory driver's append is all or nothing, like the files engine's: a batch that cannot be stored whole stores
// nothing (so a failed push never leaves its neighbours half written).
import test from 'ava';
import { DiasporaError, ErrorCode } from '../../../../lib/index.js';
import { freshTopic, storedEvents } from '../../both-drivers.js';

test('data detached after push (the contract broken): the producer drops that push (TypeError) and writes the rest; the engine itself refuses such a batch whole', async (t) => {
  const { topic } = await freshTopic(t, 'memory');
  const p = topic.producer();
  const data = new Uint8Array(4);
  const pushes = [p.push({ k: 'A' }, Buffer.from('a')), p.push({ k: 'BAD' }, data), p.push({ k: 'B' })];
  structuredClone(data.buffer, { transfer: [data.buffer] }); // before the adaptive batch is written
  const results = await Promise.allSettled(pushes);
  t.deepEqual(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).constructor.name)), [0, 'TypeError', 1]);
  t.deepEqual(await storedEvents(topic), ['0:0 {"k":"A"}', '0:1 {"k":"B"}']);
  // The dropped push is reported by the next flush too (docs/api.md), once.
  await t.throwsAsync(p.flush(), { instanceOf: TypeError });
  t.is(await p.push({ k: 'C' }), 2);
  await t.notThrowsAsync(p.flush());
  // The engine's last line of defence: a batch holding detached bytes is refused whole, nothing of it stored.
  const gone = new Uint8Array(4);
  structuredClone(gone.buffer, { transfer: [gone.buffer] });
  t.throws(() => topic.backend.partition(0).append([{ metadata: Buffer.from('{"k":"D"}') }, { metadata: Buffer.from('{}'), data: [Buffer.from('x'), gone] }]));
  t.deepEqual(await storedEvents(topic), ['0:0 {"k":"A"}', '0:1 {"k":"B"}', '0:2 {"k":"C"}']);
});

test('a batch holding an event over the part limit is refused whole with EVENT_TOO_LARGE, as by the files engine', async (t) => {
  const { topic } = await freshTopic(t, 'memory');
  const mib = Buffer.alloc(1 << 20);
  const huge = Array.from({ length: 1025 }, () => mib); // 1 GiB + 1 MiB of data, one MiB allocated
  const partition = topic.backend.partition(0);
  const err = t.throws(() => partition.append([{ metadata: Buffer.from('{}') }, { metadata: Buffer.from('{}'), data: huge }]));
  t.true(err instanceof DiasporaError && err.code === ErrorCode.EVENT_TOO_LARGE, String(err));
  t.deepEqual(await storedEvents(topic), []);
});

test('waitForAppend with a timeout beyond a timer (2^31 ms) waits for the append instead of answering false at once', async (t) => {
  const { topic } = await freshTopic(t, 'memory');
  const partition = topic.backend.partition(0);
  setTimeout(() => partition.append([{ metadata: Buffer.from('{}') }]), 30);
  t.true(await partition.waitForAppend(0, 2 ** 31));
});
