// The memory driver's append is all or nothing, like the files engine's: a batch that cannot be stored whole stores
// nothing (so a failed push never leaves its neighbours half written).
import test from 'ava';
import { freshTopic, storedEvents } from '../../both-drivers.js';

test('data detached after push (the contract broken) fails its whole batch and stores none of it', async (t) => {
  const { topic } = await freshTopic(t, 'memory');
  const p = topic.producer();
  const data = new Uint8Array(4);
  const pushes = [p.push({ k: 'A' }, Buffer.from('a')), p.push({ k: 'BAD' }, data), p.push({ k: 'B' })];
  structuredClone(data.buffer, { transfer: [data.buffer] }); // before the adaptive batch is written
  const results = await Promise.allSettled(pushes);
  t.deepEqual(results.map((r) => r.status), ['rejected', 'rejected', 'rejected']);
  t.deepEqual(await storedEvents(topic), []);
  // The partition goes on at id 0.
  t.is(await p.push({ k: 'C' }), 0);
});
