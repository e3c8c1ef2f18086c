// When acknowledgements are written (lib/consumer/acknowledgements.ts): those nobody waits for together, one store per
// partition at the end of the turn of the event loop; an awaited one at once, without waiting for the turn to end.
import test from 'ava';
import type { OffsetsBackend } from '../../../lib/backend.js';
import { Acknowledgements } from '../../../lib/consumer/acknowledgements.js';
import type { PartitionState } from '../../../lib/consumer/partition-reader.js';

function recording(): { acks: Acknowledgements; parts: PartitionState[]; stores: Array<[number, number]> } {
  const parts = [0, 1].map((index) => ({ index, ackTarget: null, committed: null, claimLost: false })) as unknown as PartitionState[];
  const acks = new Acknowledgements(parts);
  const stores: Array<[number, number]> = [];
  const offsets: OffsetsBackend = { load: () => null, store: (p, id) => void stores.push([p, id]), close: () => undefined };
  acks.offsets = offsets;
  return { acks, parts, stores };
}

const turnEnd = (): Promise<void> => new Promise((r) => setImmediate(r));
const immediates = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Immediate').length;

test.serial('acknowledgements nobody waits for are written together at the end of the turn, one store per partition', async (t) => {
  const { acks, parts, stores } = recording();
  for (let i = 0; i < 100; i++) {
    void acks.acknowledge(parts[i % 2]!, i);
    await Promise.resolve(); // one per microtask, as a for-await loop acknowledges
  }
  t.deepEqual(stores, []);
  await turnEnd();
  t.deepEqual(stores, [[0, 98], [1, 99]]);
});

test.serial('an awaited acknowledgement is written at once, before the turn ends; a lower id changes nothing', async (t) => {
  const { acks, parts, stores } = recording();
  let turnEnded = false;
  setImmediate(() => (turnEnded = true));
  await acks.acknowledge(parts[0]!, 5);
  t.false(turnEnded, 'written a microtask or two after the call');
  t.deepEqual(stores, [[0, 5]]);
  await acks.acknowledge(parts[0]!, 3).wait();
  t.deepEqual(stores, [[0, 5]]);
  for (let i = 6; i < 20; i++) await acks.acknowledge(parts[1]!, i);
  t.false(turnEnded);
  t.is(stores.length, 15);
  t.deepEqual(stores.at(-1), [1, 19]);
});

test.serial('a write made before the end of the turn cancels the one scheduled there (nothing keeps the consumer alive)', async (t) => {
  const { acks, parts, stores } = recording();
  const before = immediates();
  void acks.acknowledge(parts[0]!, 1);
  for (let i = 0; i < 3; i++) await Promise.resolve();
  t.is(immediates(), before + 1);
  acks.persist(); // as delivery does when it pauses, and close()
  t.deepEqual(stores, [[0, 1]]);
  t.is(immediates(), before);
});
