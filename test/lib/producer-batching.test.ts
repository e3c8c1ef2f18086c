// How a producer forms batches (lib/producer.ts), seen from a recording engine: which events each append received.
// Adaptive batches are written as soon as somebody waits for one of their pushes, else at the end of the current turn
// of the event loop, so pushes made one per promise continuation (a `for await` loop over a stream that does not wait
// for its pushes) still go out together.
import { Readable } from 'node:stream';
import readline from 'node:readline';
import test from 'ava';
import type { BackendAppendEvent, TopicBackend } from '../../lib/backend.js';
import { DefaultPartitionSelector } from '../../lib/components/partition-selector.js';
import { DefaultSerializer } from '../../lib/components/serializer.js';
import { DefaultValidator } from '../../lib/components/validator.js';
import { BatchSize } from '../../lib/index.js';
import { Producer, type ProducerTopic } from '../../lib/producer.js';

/** A one-partition topic whose synchronous engine records the size of each append. */
function recordingTopic(): { topic: ProducerTopic; appends: number[] } {
  const appends: number[] = [];
  let end = 0;
  const partition = {
    append(events: readonly BackendAppendEvent[]): number {
      appends.push(events.length);
      end += events.length;
      return end - events.length;
    },
    flush: () => undefined,
  };
  const backend = { numPartitions: 1, partition: () => partition } as unknown as TopicBackend;
  const selector = new DefaultPartitionSelector();
  selector.setPartitions([{}]);
  const topic: ProducerTopic = {
    name: 't', backend, validator: new DefaultValidator(), serializer: new DefaultSerializer(), partitionSelector: selector, closed: false,
  };
  return { topic, appends };
}

const chunkOfLines = (from: number, n: number): string => Array.from({ length: n }, (_, i) => `{"i":${from + i}}\n`).join('');

/** Lines in three chunks arriving in separate turns of the event loop, as reads of a file or a pipe do. */
function threeChunks(): readline.Interface {
  const input = Readable.from(
    (async function* () {
      for (let c = 0; c < 3; c++) {
        await new Promise((r) => setTimeout(r, 2));
        yield chunkOfLines(100 * c, 100);
      }
    })(),
    { objectMode: false },
  );
  return readline.createInterface({ input, crlfDelay: Infinity });
}

test('adaptive: a for-await loop over readline that does not wait for its pushes writes one batch per chunk read', async (t) => {
  const { topic, appends } = recordingTopic();
  const producer = new Producer(topic, { batchSize: BatchSize.Adaptive });
  const futures = [];
  for await (const line of threeChunks()) futures.push(producer.push(line));
  await producer.flush();
  t.deepEqual(await Promise.all(futures), Array.from({ length: 300 }, (_, i) => i));
  // One append per chunk (a busy machine may deliver two chunks in one turn: they then share one), not one per line.
  t.true(appends.length <= 3 && appends.every((n) => n % 100 === 0), `appends of ${appends.join(', ')} events`);
});

test('adaptive: a .catch() on each push is not waiting for it: the loop still writes one batch per chunk', async (t) => {
  const { topic, appends } = recordingTopic();
  const producer = new Producer(topic, { batchSize: BatchSize.Adaptive });
  const failures: unknown[] = [];
  for await (const line of threeChunks()) producer.push(line).catch((err: unknown) => failures.push(err));
  await producer.flush();
  t.true(appends.length <= 3 && appends.every((n) => n % 100 === 0), `appends of ${appends.join(', ')} events`);
  t.deepEqual(failures, []);
});

test('adaptive: a then(callback) on each push (a stage acknowledging what it forwarded) is not waiting: one batch per chunk', async (t) => {
  const { topic, appends } = recordingTopic();
  const producer = new Producer(topic, { batchSize: BatchSize.Adaptive });
  const ids: number[] = [];
  for await (const line of threeChunks()) void producer.push(line).then((id) => ids.push(id));
  await producer.flush();
  t.true(appends.length <= 3 && appends.every((n) => n % 100 === 0), `appends of ${appends.join(', ')} events`);
  t.deepEqual(ids, Array.from({ length: 300 }, (_, i) => i));
});

test('adaptive: an awaited push is written at once, before the turn ends; a loop awaiting each push needs no flush', async (t) => {
  const { topic, appends } = recordingTopic();
  const producer = new Producer(topic, { batchSize: BatchSize.Adaptive });
  let turnEnded = false;
  setImmediate(() => (turnEnded = true));
  t.is(await producer.push({ i: 0 }), 0);
  t.false(turnEnded, 'written a microtask or two after the push, not at the end of the turn');
  const viaThen = await new Promise((resolve, reject) => void producer.push({ i: 1 }).then(resolve, reject));
  t.is(viaThen, 1);
  t.is(await Promise.all([producer.push({ i: 2 }), producer.push({ i: 3 })]).then((ids) => ids.join()), '2,3');
  t.false(turnEnded);
  for (let i = 4; i < 20; i++) t.is(await producer.push({ i }), i);
  t.deepEqual(appends, [1, 1, 2, ...Array(16).fill(1)]);
});

test('adaptive: a synchronous burst goes out in batches of 4,096 events, the rest at the end of the turn', async (t) => {
  const { topic, appends } = recordingTopic();
  const producer = new Producer(topic, { batchSize: BatchSize.Adaptive });
  let last;
  for (let i = 0; i < 10_000; i++) last = producer.push('{}');
  t.deepEqual(appends, [4096, 4096], 'full batches are written inside push');
  t.is(await last, 9_999);
  t.deepEqual(appends, [4096, 4096, 1808]);
});

test('a fixed batch size writes every n events, and the rest on flush', async (t) => {
  const { topic, appends } = recordingTopic();
  const producer = new Producer(topic, { batchSize: 64 });
  for (let i = 0; i < 150; i++) void producer.push('{}');
  await new Promise((r) => setImmediate(r));
  t.deepEqual(appends, [64, 64]);
  await producer.flush();
  t.deepEqual(appends, [64, 64, 22]);
});

test.serial('adaptive: a flush cancels the end-of-turn write it made pointless (nothing scheduled keeps the producer alive)', async (t) => {
  const { topic, appends } = recordingTopic();
  const producer = new Producer(topic, { batchSize: BatchSize.Adaptive });
  const immediates = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Immediate').length;
  const before = immediates();
  void producer.push('{}');
  for (let i = 0; i < 3; i++) await Promise.resolve(); // the check microtasks: nobody waits, so the write waits for the turn's end
  t.is(immediates(), before + 1);
  t.deepEqual(appends, []);
  await producer.flush();
  t.deepEqual(appends, [1]);
  t.is(immediates(), before, 'the end-of-turn write is cancelled');
});
