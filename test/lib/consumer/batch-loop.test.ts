// consumer.processBatches(): every event once, in id order per partition, in batches of one partition's consecutive
// events; the limits, stops and waits of process(); acknowledgements per batch or up to a position; a bad event
// ends its batch before it and is reported by the next step, as process() reports it.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import {
  DataDescriptor, DiasporaError, Driver, ErrorCode, StopEventProcessor, type EventBatch, type JsonObject,
} from '../../../lib/index.js';
import { tempDir } from '../../temp-dir.js';
import { DRIVER_TYPES, freshTopic } from '../both-drivers.js';

interface Md {
  i: number;
  tag: string;
}

const payload = (i: number): Buffer => Buffer.from(`data-of-${String(i).padStart(4, '0')}`);

for (const type of DRIVER_TYPES) {
  test(`${type}: every event once, per partition in id order, each batch consecutive events of one partition`, async (t) => {
    const { topic } = await freshTopic(t, type, { options: { num_partitions: 3 } });
    const producer = topic.producer<Md>({ batchSize: 37 });
    for (let i = 0; i < 1000; i++) void producer.push({ i, tag: `e${i}` }, i % 5 === 0 ? undefined : payload(i));
    await producer.flush();
    const consumer = await topic.consumer<Md>('c', { until: 'end', batchSize: 50 });
    const seen = new Map<number, number[]>();
    const sizes: number[] = [];
    const n = await consumer.processBatches((b) => {
      t.true(b.length >= 1 && b.length <= 50, `batch of ${b.length}`);
      t.is(b.lastId, b.firstId + b.length - 1);
      sizes.push(b.length);
      for (let k = 0; k < b.length; k++) {
        t.is(b.id(k), b.firstId + k);
        const text = b.metadataText(k);
        const md = JSON.parse(text) as Md;
        t.is(Buffer.from(b.metadataBytes(k)).toString(), text);
        t.deepEqual(b.metadata(k), md);
        t.true(b.timestamp(k) > 0);
        const want = md.i % 5 === 0 ? Buffer.alloc(0) : payload(md.i);
        t.true(Buffer.from(b.dataBytes(k)).equals(want), `data of ${md.i}`);
        t.true(b.data(k).toBuffer().equals(want));
        t.is(b.data(k), b.data(k), 'the same DataView every call');
        const e = b.event(k);
        t.is(e, b.event(k), 'the same Event every call');
        t.is(e.id, b.id(k));
        t.is(e.partition, b.partition);
        t.is(e.metadataText, text);
        (seen.get(b.partition) ?? seen.set(b.partition, []).get(b.partition)!).push(b.id(k));
      }
      void b.acknowledge();
    });
    t.is(n, 1000);
    let total = 0;
    for (const [, ids] of seen) {
      t.deepEqual(ids, ids.map((_, k) => k), 'dense ids from 0 in order');
      total += ids.length;
    }
    t.is(total, 1000);
    t.true(sizes.some((s) => s > 1), 'events come in batches');
    await consumer.close();
    // Every batch was acknowledged: nothing is left for the name.
    const again = await topic.consumer('c', { until: 'end' });
    t.is(await again.processBatches(() => undefined), 0);
    await again.close();
  });

  test(`${type}: maxEvents cuts the last batch; acknowledge(i) resumes a restart after event i`, async (t) => {
    const { topic } = await freshTopic(t, type);
    const producer = topic.producer<Md>();
    for (let i = 0; i < 300; i++) void producer.push({ i, tag: 'x' });
    await producer.flush();
    const first = await topic.consumer<Md>('c', { batchSize: 128 });
    const lengths: number[] = [];
    let acked: PromiseLike<void> | undefined;
    t.is(await first.processBatches((b) => {
      lengths.push(b.length);
      if (b.firstId === 128) acked = b.acknowledge(9); // event 137
    }, { maxEvents: 150 }), 150);
    t.deepEqual(lengths, [128, 22]);
    await acked;
    await first.close();
    const second = await topic.consumer<Md>('c', { until: 'end' });
    const ids: number[] = [];
    t.is(await second.processBatches((b) => {
      for (let k = 0; k < b.length; k++) ids.push(b.metadata(k).i);
    }), 300 - 138);
    t.is(ids[0], 138);
    t.is(ids.length, 162);
    await second.close();
  });

  test(`${type}: StopEventProcessor ends the loop (its batch counted); a processor error rejects`, async (t) => {
    const { topic } = await freshTopic(t, type);
    const producer = topic.producer<Md>();
    for (let i = 0; i < 20; i++) void producer.push({ i, tag: 'x' });
    await producer.flush();
    const consumer = await topic.consumer<Md>('c', { batchSize: 8 });
    t.is(await consumer.processBatches(() => {
      throw new StopEventProcessor();
    }), 8);
    const boom = new Error('boom');
    t.is(await t.throwsAsync(consumer.processBatches(async () => {
      await Promise.resolve();
      throw boom;
    })), boom);
    // The next call goes on after the batches handed out.
    const ids: number[] = [];
    t.is(await consumer.processBatches((b) => void ids.push(b.firstId), { timeoutMs: 50 }), 4);
    t.deepEqual(ids, [16]);
    await consumer.close();
  });

  test(`${type}: waits for new events until timeoutMs; what one push commits comes as one batch`, async (t) => {
    const { topic } = await freshTopic(t, type);
    const consumer = await topic.consumer<Md>('c');
    const producer = topic.producer<Md>({ batchSize: 10 });
    const batches: Array<[number, number]> = [];
    setTimeout(() => {
      for (let i = 0; i < 10; i++) void producer.push({ i, tag: 'late' });
    }, 100);
    const started = Date.now();
    const n = await consumer.processBatches((b) => void batches.push([b.firstId, b.length]), { timeoutMs: 400 });
    t.is(n, 10);
    t.deepEqual(batches, [[0, 10]], 'the event that ended the wait and the ones after it');
    t.true(Date.now() - started >= 400, 'returned at the timeout after the last event');
    // close() ends a waiting loop with what was processed.
    const waiting = consumer.processBatches(() => undefined);
    setTimeout(() => void consumer.close(), 50);
    t.is(await waiting, 0);
    await producer.close();
  });

  test(`${type}: a selector and an allocator run per event as with process()`, async (t) => {
    const { topic } = await freshTopic(t, type);
    const producer = topic.producer<Md>();
    for (let i = 0; i < 40; i++) void producer.push({ i, tag: i % 2 ? 'odd' : 'even' }, Buffer.from(`0123456789-${i}`));
    await producer.flush();
    const strided = await topic.consumer<Md>('strided', {
      until: 'end',
      dataSelector: (md, d) => (md.tag === 'odd' ? d.makeStridedView(0, 4, 1, 2) : null),
    });
    await strided.processBatches((b) => {
      for (let k = 0; k < b.length; k++) {
        const i = b.metadata(k).i;
        t.is(Buffer.from(b.dataBytes(k)).toString(), i % 2 ? '0369' : '', `event ${i}`);
        t.is(b.data(k).segments.length, i % 2 ? 4 : 0);
        if (i % 2 === 0) t.is(b.dataBytes(k), b.dataBytes(k), 'nothing selected: one shared empty array, not one per call');
      }
    });
    await strided.close();
    const memory = Buffer.alloc(4096);
    let used = 0;
    const gathered = await topic.consumer<Md>('gathered', {
      until: 'end',
      dataSelector: (_md, d) => d.makeSubView(0, 4),
      dataAllocator: (_md, d) => {
        const m = memory.subarray(used, used + d.size);
        used += d.size;
        return m;
      },
    });
    const got: string[] = [];
    await gathered.processBatches((b) => {
      for (let k = 0; k < b.length; k++) {
        const bytes = b.dataBytes(k);
        t.is(bytes.buffer, memory.buffer, 'the allocator memory itself');
        got.push(Buffer.from(bytes).toString());
      }
    });
    t.is(got.length, 40);
    t.true(got.every((s) => s === '0123'));
    await gathered.close();
  });

  test(`${type}: a failing selection ends its batch before the event; the next call reports it and goes on`, async (t) => {
    const { topic } = await freshTopic(t, type);
    const producer = topic.producer<Md>();
    for (let i = 0; i < 10; i++) void producer.push({ i, tag: 'x' }, Buffer.alloc(10, i));
    await producer.flush();
    const consumer = await topic.consumer<Md>('c', {
      until: 'end',
      // Event 4: a descriptor of another size (INVALID_VIEW).
      dataSelector: (md, d) => (md.i === 4 ? new DataDescriptor('', 3) : d),
    });
    const runs: number[][] = [];
    const errors: DiasporaError[] = [];
    for (;;) {
      const ids: number[] = [];
      try {
        await consumer.processBatches((b) => {
          for (let k = 0; k < b.length; k++) ids.push(b.id(k));
          void b.acknowledge();
        });
        runs.push(ids);
        break;
      } catch (err) {
        runs.push(ids);
        errors.push(err as DiasporaError);
      }
    }
    t.deepEqual(runs, [[0, 1, 2, 3], [5, 6, 7, 8, 9]]);
    t.is(errors.length, 1);
    t.is(errors[0].code, ErrorCode.INVALID_VIEW);
    t.like(errors[0].details, { partition: 0, id: 4 });
    await consumer.close();
  });

  test(`${type}: bad arguments and a closed consumer`, async (t) => {
    const { topic } = await freshTopic(t, type);
    const consumer = await topic.consumer('c');
    await t.throwsAsync(consumer.processBatches('f' as never), { instanceOf: TypeError });
    const typo = await t.throwsAsync(consumer.processBatches(() => undefined, { maxEvent: 3 } as never), { instanceOf: DiasporaError });
    t.is(typo?.code, ErrorCode.BAD_CONFIG);
    t.regex(typo!.message, /maxEvent/);
    // concurrency and threads are process()'s: refused by name, not ignored.
    t.is((await t.throwsAsync(consumer.processBatches(() => undefined, { concurrency: 2 } as never), { instanceOf: DiasporaError }))?.code, ErrorCode.BAD_CONFIG);
    await t.throwsAsync(consumer.processBatches(() => undefined, { maxEvents: -1 }), { instanceOf: DiasporaError });
    await consumer.close();
    t.is((await t.throwsAsync(consumer.processBatches(() => undefined), { instanceOf: DiasporaError }))?.code, ErrorCode.CLOSED);
  });
}

test('files: a data byte flipped mid-batch ends the batch before that event; the next call reports CORRUPTION and goes on', async (t) => {
  const root = tempDir(t, 'diaspora-batch-corrupt-');
  const writer = await Driver.create('files', { root_path: root });
  await writer.createTopic('t');
  const producer = (await writer.openTopic('t')).producer();
  for (let i = 0; i < 100; i++) void producer.push({ i }, payload(i));
  await producer.flush();
  await writer.close();
  const dir = path.join(root, 't', 'partitions', '00000000');
  const file = path.join(dir, fs.readdirSync(dir).find((f) => f.endsWith('.data'))!);
  const bytes = fs.readFileSync(file);
  const at = bytes.indexOf('data-of-0064');
  t.true(at >= 0);
  bytes[at + 5] ^= 1;
  fs.writeFileSync(file, bytes);

  const driver = await Driver.create('files', { root_path: root });
  t.teardown(() => driver.close());
  const consumer = await (await driver.openTopic('t')).consumer('c', { until: 'end', batchSize: 100 });
  const ids: number[] = [];
  const errors: DiasporaError[] = [];
  const onBatch = (b: EventBatch): void => {
    for (let k = 0; k < b.length; k++) {
      t.true(Buffer.from(b.dataBytes(k)).equals(payload((b.metadata(k) as JsonObject).i as number)));
      ids.push(b.id(k));
    }
  };
  for (;;) {
    try {
      await consumer.processBatches(onBatch);
      break;
    } catch (err) {
      if (!(err instanceof DiasporaError)) throw err;
      errors.push(err);
    }
  }
  t.is(errors.length, 1);
  t.is(errors[0].code, ErrorCode.CORRUPTION);
  t.like(errors[0].details, { partition: 0, id: 64 });
  t.deepEqual(ids, Array.from({ length: 100 }, (_, i) => i).filter((i) => i !== 64));
  await consumer.close();
});
