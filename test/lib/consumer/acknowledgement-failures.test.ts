// An acknowledgement whose store failed (disk full, EIO) is not dropped: the next acknowledge(), whatever its id,
// and close() write it again, and close() rejects when it still cannot be written (lib/consumer/acknowledgements.ts).
// The failure is injected into the offsets backend, synchronous (files) and asynchronous (as nats answers).
import test, { type ExecutionContext } from 'ava';
import type { OffsetsBackend } from '../../../lib/backend.js';
import { Acknowledgements } from '../../../lib/consumer/acknowledgements.js';
import type { PartitionState } from '../../../lib/consumer/partition-reader.js';
import { DiasporaError, ErrorCode } from '../../../lib/index.js';
import { DRIVER_TYPES, freshTopic, type DriverType } from '../both-drivers.js';

const eio = (): Error => Object.assign(new Error('EIO: i/o error, write (injected)'), { code: 'EIO' });
const isIo = (e: unknown): boolean => e instanceof DiasporaError && e.code === ErrorCode.IO && /EIO/.test(e.message);
/** Lets a write nobody waits for happen (at the end of the turn) and an asynchronous store answer. */
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 20));

/** Offsets whose next `failures.n` stores fail (thrown, or rejected when async). */
function failing(async: boolean): { acks: Acknowledgements; parts: PartitionState[]; stores: Array<[number, number]>; failures: { n: number } } {
  const parts = [0, 1].map((index) => ({ index, ackTarget: null, committed: null, claimLost: false })) as unknown as PartitionState[];
  const acks = new Acknowledgements(parts);
  const stores: Array<[number, number]> = [];
  const failures = { n: 0 };
  const store = (p: number, id: number): void => {
    if (failures.n > 0) {
      failures.n--;
      throw eio();
    }
    stores.push([p, id]);
  };
  const offsets: OffsetsBackend = {
    load: () => null,
    store: async ? (p, id) => new Promise<void>((resolve, reject) => setImmediate(() => {
      try {
        store(p, id);
        resolve();
      } catch (err) {
        reject(err);
      }
    })) : store,
    close: () => undefined,
  };
  acks.offsets = offsets;
  return { acks, parts, stores, failures };
}

for (const async of [false, true]) {
  const engine = async ? 'asynchronous offsets' : 'synchronous offsets';

  test.serial(`${engine}: an acknowledgement whose store failed is written again by the next one, also of the same or a lower id`, async (t) => {
    const { acks, parts, stores, failures } = failing(async);
    failures.n = 1;
    t.true(isIo(await t.throwsAsync(acks.acknowledge(parts[0]!, 5).wait())));
    t.deepEqual(stores, []);
    await acks.acknowledge(parts[0]!, 5).wait(); // the same id again: written, not answered "already written"
    t.deepEqual(stores, [[0, 5]]);
    await acks.acknowledge(parts[0]!, 5).wait(); // now it is stored: nothing more to write
    t.deepEqual(stores, [[0, 5]]);
    failures.n = 1;
    void acks.acknowledge(parts[1]!, 7); // nobody waits: the failure must not be lost either
    await settle();
    t.deepEqual(stores, [[0, 5]]);
    await acks.acknowledge(parts[0]!, 2).wait(); // a lower id of another partition retries partition 1's
    t.deepEqual(stores, [[0, 5], [1, 7]]);
  });

  test.serial(`${engine}: written() (close) retries a failed store and rejects when it fails again`, async (t) => {
    const { acks, parts, stores, failures } = failing(async);
    failures.n = 1;
    void acks.acknowledge(parts[1]!, 3); // nobody waits
    await settle();
    t.deepEqual(stores, []);
    failures.n = 1;
    t.true(isIo(await t.throwsAsync(acks.written()!)), 'the position could not be written: reported');
    await acks.written();
    t.deepEqual(stores, [[1, 3]], 'retried once more and written');
    t.is(acks.written(), undefined, 'nothing left to write');
    t.deepEqual(stores, [[1, 3]]);
  });
}

for (const type of DRIVER_TYPES) {
  /** The consumer's offsets backend, whose store() is made to fail while `failing.on`. */
  function breakStores(consumer: object, failing: { on: boolean }): void {
    const offsets = (consumer as { acks: { offsets: OffsetsBackend } }).acks.offsets;
    const store = offsets.store.bind(offsets);
    offsets.store = (p, id) => {
      if (failing.on) throw eio();
      return store(p, id);
    };
  }

  /**
   * Three events acknowledged by a consumer 'c' whose offset stores fail while `failing.on` (nobody looks at the
   * acknowledgements' futures).
   */
  async function acknowledgedWhileFailing(t: ExecutionContext, type: DriverType) {
    const { topic } = await freshTopic(t, type);
    const producer = topic.producer();
    for (let i = 0; i < 3; i++) producer.push({ i });
    await producer.flush();
    const consumer = await topic.consumer('c', { until: 'end' });
    const failing = { on: true };
    breakStores(consumer, failing);
    await consumer.process((e) => void e.acknowledge());
    return { topic, producer, consumer, failing };
  }

  test(`${type}: consumer.close() rejects with an acknowledgement it could not write`, async (t) => {
    const { topic, consumer } = await acknowledgedWhileFailing(t, type);
    const err = await t.throwsAsync(consumer.close());
    t.true(isIo(err), `close reports the unwritten acknowledgement: ${String(err)}`);
    const again = await topic.consumer('c', { until: 'end' });
    t.is((await again.pull().wait())?.id, 0, 'nothing was stored: the consumer starts over');
    await again.close();
  });

  test(`${type}: an acknowledgement whose store failed once is written by close(), and the consumer resumes after it`, async (t) => {
    const { topic, producer, consumer, failing } = await acknowledgedWhileFailing(t, type);
    failing.on = false;
    await t.notThrowsAsync(consumer.close());
    producer.push({ i: 3 });
    await producer.flush();
    const again = await topic.consumer('c', { until: 'end' });
    t.is((await again.pull().wait())?.id, 3, 'resumes after the acknowledgement written at close');
    await again.close();
  });
}
