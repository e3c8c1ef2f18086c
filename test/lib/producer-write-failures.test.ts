// A batch write that fails (disk full, EIO) while nobody awaits the pushes' futures: flush() and close() reject with
// the failure instead of resolving as if everything was written (lib/producer.ts). Rule: each failed write since
// the previous flush() is reported by the next flush() or close() to finish (and by the futures of its pushes).
// The failure is injected into the engine's append (both drivers, with a synchronous and an asynchronous answer);
// a real disk-full run is in faults/disk-full.test.ts.
import test from 'ava';
import type { PartitionBackend } from '../../lib/backend.js';
import { DiasporaError, ErrorCode, type TopicHandle } from '../../lib/index.js';
import { DRIVER_TYPES, freshTopic, storedEvents } from './both-drivers.js';

/** Makes the next `times` appends of partition 0 fail with EIO (thrown, or rejected when `async`). */
function failAppends(topic: TopicHandle, times: number, async: boolean): void {
  const part = (topic as unknown as { backend: { partition(i: number): PartitionBackend } }).backend.partition(0);
  const append = part.append.bind(part);
  let left = times;
  part.append = (events) => {
    if (left > 0) {
      left--;
      const err = Object.assign(new Error('EIO: i/o error, write (injected)'), { code: 'EIO' });
      if (async) return Promise.reject(err);
      throw err;
    }
    return async ? Promise.resolve(append(events)) : append(events);
  };
}

const isIo = (e: unknown): boolean => e instanceof DiasporaError && e.code === ErrorCode.IO && /EIO/.test(e.message);

for (const type of DRIVER_TYPES) {
  for (const async of [false, true]) {
    const engine = `${type}${async ? ', asynchronous answer' : ''}`;

    test(`${engine}: flush() rejects when a write since the previous flush failed, though no push future was observed`, async (t) => {
      const { topic } = await freshTopic(t, type);
      const producer = topic.producer();
      producer.push({ i: 0 });
      await producer.flush();
      failAppends(topic, 1, async);
      producer.push({ i: 1 }); // nobody looks at this future
      producer.push({ i: 2 });
      const err = await t.throwsAsync(producer.flush());
      t.true(isIo(err), `flush rejects with the write's failure: ${String(err)}`);
      // Reported once: the next flush, with nothing failed since, resolves.
      producer.push({ i: 3 });
      await t.notThrowsAsync(producer.flush());
      await t.notThrowsAsync(producer.close());
      t.deepEqual(await storedEvents(topic), ['0:0 {"i":0}', '0:1 {"i":3}']);
    });

    test(`${engine}: close() rejects when a write since the last flush failed, though no push future was observed`, async (t) => {
      const { topic } = await freshTopic(t, type);
      const producer = topic.producer();
      failAppends(topic, 1, async);
      producer.push({ i: 0 });
      await new Promise((r) => setImmediate(r)); // the adaptive batch is written (and fails) at the end of the turn
      const err = await t.throwsAsync(producer.close());
      t.true(isIo(err), `close rejects with the write's failure: ${String(err)}`);
      t.is(producer.status, 'closed');
      t.deepEqual(await storedEvents(topic), []);
    });

    test(`${engine}: a failure already seen through an awaited push is reported again by the next flush`, async (t) => {
      const { topic } = await freshTopic(t, type);
      const producer = topic.producer();
      failAppends(topic, 1, async);
      const pushErr = await t.throwsAsync(producer.push({ i: 0 }).wait());
      t.true(isIo(pushErr));
      const err = await t.throwsAsync(producer.flush());
      t.true(isIo(err), `documented: flush reports every failure since the previous flush: ${String(err)}`);
      await t.notThrowsAsync(producer.flush());
      await producer.close();
    });
  }
}
