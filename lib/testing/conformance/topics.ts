// Conformance checks of drivers and topics, and of producing into them (BackendTest, DriverTest,
// test_driver*.py of the reference, plus our typed errors).
import {
  BatchSize,
  DiasporaError,
  Driver,
  ErrorCode,
  InvalidMetadata,
  Ordering,
} from '../../index.js';
import { enc, isCode, type SuiteContext } from './context.js';

export function defineTopicChecks(ctx: SuiteContext): void {
  const { test: t0, label, withDriver, topicWith } = ctx;

  // ---- drivers and topics (BackendTest, DriverTest, test_driver*.py) ----

  t0(`${label}: unknown drivers are typed errors`, async (t) => {
    await t.throwsAsync(Driver.create('unknown-driver-xyz', {}), { instanceOf: DiasporaError, message: /Unknown driver/ });
    const e = await t.throwsAsync(Driver.create('unknown:./no/such/module.js', {}));
    t.true(isCode(ErrorCode.UNKNOWN_DRIVER)(e));
  });

  t0(`${label}: create, exist, open, list topics`, async (t) => {
    await withDriver(async (d) => {
      t.false(await d.topicExists('mytopic'));
      await t.throwsAsync(d.openTopic('mytopic'), { instanceOf: DiasporaError, code: ErrorCode.TOPIC_NOT_FOUND } as never);
      await d.createTopic('mytopic');
      t.true(await d.topicExists('mytopic'));
      const e = await t.throwsAsync(d.createTopic('mytopic'));
      t.true(isCode(ErrorCode.TOPIC_EXISTS)(e));
      const topic = await d.openTopic('mytopic');
      t.is(topic.name, 'mytopic');
      t.is(topic.partitions.length, 1);
      await d.createTopic('topic1');
      await d.createTopic('topic2', { options: { num_partitions: 3 } });
      const list = await d.listTopics();
      t.true(list.size >= 3);
      for (const name of ['topic1', 'topic2', 'mytopic']) {
        const entry = list.get(name);
        t.truthy(entry, name);
        for (const k of ['validator', 'serializer', 'partition_selector']) {
          if (entry && k in entry) t.true(typeof entry[k] === 'object' && entry[k] !== null && !Array.isArray(entry[k]));
        }
      }
      t.is((await d.openTopic('topic2')).partitions.length, 3);
      t.true(d.defaultThreadPool().threadCount === 0);
      t.is(d.makeThreadPool(1).threadCount, 1);
    });
  });

  t0(`${label}: bad topic names and options are typed errors and create nothing`, async (t) => {
    await withDriver(async (d) => {
      for (const bad of ['', 'a/b', '..', '.', 'a\0b', '../escape', 'x\\y']) {
        const e = await t.throwsAsync(d.createTopic(bad));
        t.true(isCode(ErrorCode.BAD_NAME)(e), `name ${JSON.stringify(bad)}: ${String(e)}`);
      }
      t.deepEqual([...(await d.listTopics()).keys()], []);
      for (const n of [0, -1, 1.5, '3', 70000]) {
        const e = await t.throwsAsync(d.createTopic('badopts', { options: { num_partitions: n as number } }));
        t.true(isCode(ErrorCode.BAD_CONFIG)(e), `num_partitions ${JSON.stringify(n)}`);
      }
      t.false(await d.topicExists('badopts'));
      await t.throwsAsync(d.createTopic(42 as unknown as string), { instanceOf: TypeError });
    });
  });

  // ---- producers (ProducerTest, EventProducerTest, test_producer.py) ----

  t0(`${label}: producers push with every batch size and ordering`, async (t) => {
    await withDriver(async (d) => {
      for (const batchSize of [BatchSize.Adaptive, 10]) {
        for (const ordering of [Ordering.Strict, Ordering.Loose]) {
          const topic = await topicWith(d);
          const producer = topic.producer({ name: 'myproducer', batchSize, ordering });
          t.is(producer.name, 'myproducer');
          t.is(producer.topic.name, topic.name);
          const futures = [];
          for (let i = 0; i < 100; i++) {
            futures.push(producer.push({ event_num: i }, i % 2 ? enc(`This is some data for event ${i}`) : undefined));
            if (i % 5 === 4 && batchSize !== BatchSize.Adaptive) await producer.flush();
          }
          await producer.flush();
          t.deepEqual(await Promise.all(futures), Array.from({ length: 100 }, (_, i) => i));
        }
      }
      const topic = await topicWith(d);
      const p = topic.producer({ name: 'my_producer', batchSize: 32, maxNumBatches: 4, threadPool: d.defaultThreadPool(), ordering: Ordering.Loose });
      t.is(p.batchSize, 32);
      t.is(p.maxNumBatches, 4);
      t.is(p.threadPool, d.defaultThreadPool());
      t.is((t.throws(() => topic.producer({ batchSize: 0 })) as DiasporaError).code, ErrorCode.BAD_CONFIG);
      t.throws(() => topic.producer({ batchSize: '4' as never }), { instanceOf: TypeError });
      t.throws(() => p.push({}, 'not bytes' as never), { instanceOf: TypeError });
    });
  });

  t0(`${label}: metadata as JSON text, bad JSON text rejected, validator rejection is InvalidMetadata`, async (t) => {
    await withDriver(async (d) => {
      const topic = await topicWith(d, { validator: { type: 'schema', schema: { type: 'object', required: ['x'] } } });
      const producer = topic.producer();
      t.is(await producer.push('{"x":1,"y":2.3}'), 0);
      const bad = await t.throwsAsync(producer.push('{"x":1,"y":').wait());
      t.true(isCode(ErrorCode.BAD_JSON)(bad));
      const rejected = await t.throwsAsync(producer.push({ y: 1 }).wait());
      t.true(rejected instanceof InvalidMetadata);
      t.true(isCode(ErrorCode.INVALID_METADATA)(rejected));
      t.is(await producer.push({ x: 2 }), 1); // nothing was written for the rejected ones
      await producer.flush();
      const c = await topic.consumer('c', { until: 'end' });
      const got = [];
      for await (const e of c) got.push(e.metadata);
      t.deepEqual(got, [{ x: 1, y: 2.3 }, { x: 2 }]);
    });
  });

  t0(`${label}: a batch of 5000 events (beyond the reference's 1024 iovec limit) commits`, async (t) => {
    await withDriver(async (d) => {
      const topic = await topicWith(d);
      const producer = topic.producer({ batchSize: 5000 });
      const fs = [];
      for (let i = 0; i < 5000; i++) fs.push(producer.push({ i }, enc(`d${i}`)));
      await producer.flush();
      const ids = await Promise.all(fs);
      t.is(ids[4999], 4999);
      const c = await topic.consumer('c', { until: 'end' });
      let n = 0;
      for await (const e of c) {
        t.is(e.data.toBuffer().toString(), `d${n}`);
        n++;
      }
      t.is(n, 5000);
    });
  });

  t0(`${label}: round robin partitioning, a requested partition that does not exist is OUT_OF_RANGE, fair pulls`, async (t) => {
    await withDriver(async (d) => {
      const topic = await topicWith(d, { options: { num_partitions: 2 } });
      const producer = topic.producer();
      t.is(await producer.push({ a: 1 }, enc('hello')), 0); // p0
      t.is(await producer.push({ b: 2 }, enc('WORLD!')), 0); // p1
      t.is(await producer.push('"str"'), 1); // p0
      // The reference's default selector takes a requested partition modulo N; here it is refused, nothing written.
      for (const missing of [2, 5, 1e9]) {
        const e = await t.throwsAsync(producer.push({ c: 3 }, undefined, missing));
        t.is((e as DiasporaError).code, ErrorCode.OUT_OF_RANGE, `partition ${missing}`);
      }
      t.is(await producer.push({ c: 3 }, undefined, 1), 1); // p1
      const c = await topic.consumer('c', { until: 'end' });
      const order: Array<[number, number]> = [];
      for await (const e of c) order.push([e.partition, e.id]);
      t.deepEqual(order, [
        [0, 0],
        [1, 0],
        [0, 1],
        [1, 1],
      ]);
      const only1 = await topic.consumer('only1', { targets: [1], until: 'end' });
      const ids = [];
      for await (const e of only1) ids.push([e.partition, e.id]);
      t.deepEqual(ids, [
        [1, 0],
        [1, 1],
      ]);
      await t.throwsAsync(topic.consumer('bad', { targets: [2] }), { instanceOf: DiasporaError });
    });
  });
}
