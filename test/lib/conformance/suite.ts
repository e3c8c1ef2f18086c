// The conformance suite every driver must pass: the reference's tested behaviours (API.md section 6) plus the
// semantics we add (waiting pulls, typed errors, named consumers, replay positions, exclusivity).
// A driver's test file calls defineConformanceSuite with a factory giving a fresh, empty driver.

import type { TestFn } from 'ava';
import {
  BatchSize,
  DataDescriptor,
  DataView,
  DiasporaError,
  Driver,
  ErrorCode,
  Event,
  InvalidMetadata,
  Ordering,
  StopEventProcessor,
  TopicHandle,
  type JsonObject,
} from '../../../lib/index.js';

export interface DriverUnderTest {
  driver: Driver;
  /** A second driver on the same storage (another "process view"); same object where that makes no sense. */
  reopen(): Promise<Driver>;
  cleanup(): Promise<void>;
}

const enc = (s: string): Buffer => Buffer.from(s, 'utf8');
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

function isCode(code: string) {
  return (err: unknown): boolean => err instanceof DiasporaError && err.code === code;
}

export function defineConformanceSuite(test: TestFn, label: string, make: () => Promise<DriverUnderTest>): void {
  const t0 = test;
  let counter = 0;
  const fresh = (): string => `topic_${++counter}_${process.pid}`;

  async function withDriver(fn: (d: Driver, env: DriverUnderTest) => Promise<void>): Promise<void> {
    const env = await make();
    try {
      await fn(env.driver, env);
    } finally {
      try {
        await env.driver.close();
      } finally {
        await env.cleanup();
      }
    }
  }

  async function topicWith(d: Driver, spec: Parameters<Driver['createTopic']>[1] = {}): Promise<TopicHandle> {
    const name = fresh();
    await d.createTopic(name, spec);
    return d.openTopic(name);
  }

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
      t.throws(() => topic.producer({ batchSize: 0 }), { instanceOf: TypeError });
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

  t0(`${label}: round robin partitioning, requested partition modulo N, fair pulls`, async (t) => {
    await withDriver(async (d) => {
      const topic = await topicWith(d, { options: { num_partitions: 2 } });
      const producer = topic.producer();
      t.is(await producer.push({ a: 1 }, enc('hello')), 0); // p0
      t.is(await producer.push({ b: 2 }, enc('WORLD!')), 0); // p1
      t.is(await producer.push('"str"'), 1); // p0
      t.is(await producer.push({ c: 3 }, undefined, 5), 1); // 5 % 2 = p1
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

  // ---- consumers (ConsumerTest, EventConsumerTest, test_consumer.py) ----

  async function seed100(d: Driver): Promise<TopicHandle> {
    const topic = await topicWith(d);
    const p = topic.producer({ threadPool: d.defaultThreadPool() });
    for (let i = 0; i < 100; i++) p.push({ event_num: i }, enc(`This is data for event ${i}`));
    await p.flush().wait(1000);
    return topic;
  }

  t0(`${label}: pull delivers every event in order, then waits (timeout loses nothing)`, async (t) => {
    await withDriver(async (d) => {
      const topic = await seed100(d);
      const consumer = await topic.consumer('myconsumer');
      t.is(consumer.name, 'myconsumer');
      t.is(consumer.topic.name, topic.name);
      t.truthy(consumer.threadPool);
      for (let i = 0; i < 100; i++) {
        let e: Event | null | undefined;
        const f = consumer.pull();
        while ((e = await f.wait(1000)) === undefined);
        t.truthy(e);
        t.is(e!.id, i);
        t.deepEqual(e!.metadata, { event_num: i });
        t.is(e!.data.toBuffer().toString(), `This is data for event ${i}`); // default: all data, zero copy
        if (i % 5 === 0) await e!.acknowledge();
      }
      const pending = consumer.pull();
      t.is(await pending.wait(100), undefined);
      t.false(pending.completed);
      await topic.producer().push({ event_num: 100 });
      const late = await pending.wait(5000);
      t.is(late?.id, 100);
    });
  });

  t0(`${label}: selector and allocator (even events get their data, odd none; allocator not called for none)`, async (t) => {
    await withDriver(async (d) => {
      const topic = await seed100(d);
      let allocations = 0;
      const consumer = await topic.consumer('sel', {
        dataSelector: (md, desc) => ((md as JsonObject).event_num as number) % 2 === 0 ? desc : new DataDescriptor(),
        dataAllocator: (_md, desc) => {
          allocations++;
          return new DataView([Buffer.alloc(desc.size)]);
        },
      });
      for (let i = 0; i < 100; i++) {
        const e = (await consumer.pull())!;
        t.is(e.id, i);
        if (i % 2 === 0) {
          t.is(e.data.segments.length, 1);
          t.is(e.data.toBuffer().toString(), `This is data for event ${i}`);
        } else {
          t.is(e.data.segments.length, 0);
          t.is(e.data.size, 0);
        }
      }
      t.is(allocations, 50);
      t.is(await consumer.pull().wait(200), undefined);
    });
  });

  t0(`${label}: data selection examples (DataSelectionTest)`, async (t) => {
    await withDriver(async (d) => {
      const cases: Array<[string, (dd: DataDescriptor) => DataDescriptor | null, string]> = [
        ['empty', () => new DataDescriptor(), ''],
        ['none', () => null, ''],
        ['all', (dd) => dd, LOWER + UPPER],
        ['sub', (dd) => dd.makeSubView(13, 26), 'nopqrstuvwxyzABCDEFGHIJKLM'],
        ['strided', (dd) => dd.makeStridedView(13, 3, 4, 2), 'nopqtuvwzABC'],
        ['unstructured', (dd) => dd.makeUnstructuredView([[3, 6], [15, 4], [27, 8]]), 'defghipqrsBCDEFGHI'],
        ['sub of sub (relative)', (dd) => dd.makeSubView(1, 10).makeSubView(2, 3), 'def'],
        ['clamped', (dd) => dd.makeSubView(50, 100), 'YZ'],
      ];
      const topic = await topicWith(d);
      await topic.producer().push({}, [enc(LOWER), enc(UPPER)]);
      for (const [name, sel, expected] of cases) {
        for (const withAllocator of [false, true]) {
          const c = await topic.consumer(`${name}-${withAllocator}`, {
            dataSelector: (_m, dd) => sel(dd),
            dataAllocator: withAllocator ? (_m, dd) => [Buffer.alloc(dd.size)] : undefined,
            until: 'end',
          });
          const e = (await c.pull())!;
          t.is(e.data.size, expected.length, name);
          t.is(e.data.toBuffer().toString(), expected, `${name} allocator=${withAllocator}`);
          t.is(await c.pull(), null);
          await c.close();
        }
      }
    });
  });

  t0(`${label}: a too-small allocator buffer fails that event only`, async (t) => {
    await withDriver(async (d) => {
      const topic = await topicWith(d);
      const p = topic.producer();
      p.push({ n: 0 }, enc('hello'));
      p.push({ n: 1 }, enc('hi'));
      await p.flush();
      const c = await topic.consumer('small', { dataAllocator: () => Buffer.alloc(2), until: 'end' });
      const err = await t.throwsAsync(c.pull().wait());
      t.true(isCode(ErrorCode.BUFFER_TOO_SMALL)(err));
      const e = (await c.pull())!;
      t.is(e.id, 1);
      t.is(e.data.toBuffer().toString(), 'hi');
    });
  });

  t0(`${label}: process() with maxEvents, StopEventProcessor (inline and concurrent), idle timeout and errors`, async (t) => {
    await withDriver(async (d) => {
      const topic = await topicWith(d);
      const p = topic.producer();
      for (let i = 0; i < 10; i++) p.push({ i });
      await p.flush();
      const c1 = await topic.consumer('p1');
      t.is(await c1.process(() => {}, { maxEvents: 4 }), 4);
      const seen: number[] = [];
      t.is(await c1.process((e) => void seen.push(e.id), { maxEvents: 100, timeoutMs: 100 }), 6);
      t.deepEqual(seen, [4, 5, 6, 7, 8, 9]);
      const c2 = await topic.consumer('p2');
      const n = await c2.process((e) => {
        if (e.id === 3) throw new StopEventProcessor();
      });
      t.is(n, 4);
      const c3 = await topic.consumer('p3');
      let running = 0;
      let maxRunning = 0;
      const count = await c3.process(
        async (e) => {
          running++;
          maxRunning = Math.max(maxRunning, running);
          await new Promise((r) => setTimeout(r, 5));
          running--;
          if (e.id === 7) throw new StopEventProcessor();
        },
        { concurrency: 3 },
      );
      t.true(count >= 8);
      t.true(maxRunning > 1 && maxRunning <= 3);
      const c4 = await topic.consumer('p4');
      await t.throwsAsync(
        c4.process((e) => {
          if (e.id === 2) throw new Error('boom');
        }),
        { message: 'boom' },
      );
    });
  });

  t0(`${label}: live producer and consumer in one process; several producers`, async (t) => {
    await withDriver(async (d) => {
      const topic = await topicWith(d, { options: { num_partitions: 2 } });
      const consumer = await topic.consumer('live');
      const received: Array<[number, number, number]> = [];
      const consuming = consumer.process(
        async (e) => {
          const md = e.metadata as JsonObject;
          received.push([md.producer as number, md.index as number, e.partition]);
          await e.acknowledge();
        },
        { maxEvents: 3 * 300 },
      );
      const producers = [0, 1, 2].map(async (pi) => {
        const producer = topic.producer({ name: `producer_${pi}` });
        for (let i = 0; i < 300; i++) {
          await producer.push({ producer: pi, index: i });
          if (i % 50 === 0) await new Promise((r) => setTimeout(r, 1));
        }
        await producer.flush();
      });
      await Promise.all(producers);
      t.is(await consuming, 900);
      for (const pi of [0, 1, 2]) {
        const mine = received.filter((r) => r[0] === pi).map((r) => r[1]);
        t.deepEqual([...mine].sort((a, b) => a - b), Array.from({ length: 300 }, (_, i) => i));
      }
    });
  });

  t0(`${label}: named consumers resume after their last acknowledgement`, async (t) => {
    await withDriver(async (d, env) => {
      const topic = await topicWith(d, { options: { num_partitions: 2 } });
      const p = topic.producer();
      for (let i = 0; i < 20; i++) p.push({ i }, undefined, i % 2);
      await p.flush();
      const c = await topic.consumer('resumer');
      for (let k = 0; k < 8; k++) {
        const e = (await c.pull())!;
        if (e.partition === 0 && e.id === 2) await e.acknowledge();
        if (e.partition === 1 && e.id === 1) await e.acknowledge();
      }
      await c.close();
      await t.throwsAsync(c.pull().wait(), { instanceOf: DiasporaError, message: /closed/ });
      const d2 = await env.reopen();
      const topic2 = await d2.openTopic(topic.name);
      const again = await topic2.consumer('resumer', { until: 'end' });
      const first: Record<number, number> = {};
      for await (const e of again) first[e.partition] ??= e.id;
      t.deepEqual(first, { 0: 3, 1: 2 });
      const positions = await topic2.listConsumers();
      const mine = positions.find((x) => x.name === 'resumer');
      t.truthy(mine);
      t.deepEqual(mine!.partitions.map((x) => [x.partition, x.lastAcknowledged]), [
        [0, 2],
        [1, 1],
      ]);
      await again.close();
      if (d2 !== d) await d2.close();
    });
  });

  t0(`${label}: from earliest/latest/id/time, until end, reset, lag`, async (t) => {
    await withDriver(async (d) => {
      const topic = await topicWith(d);
      const p = topic.producer();
      for (let i = 0; i < 5; i++) await p.push({ i }, enc('x'.repeat(10)));
      await new Promise((r) => setTimeout(r, 20));
      const middle = new Date();
      await new Promise((r) => setTimeout(r, 20));
      for (let i = 5; i < 10; i++) await p.push({ i }, enc('x'.repeat(10)));
      const ids = async (opts: Parameters<TopicHandle['consumer']>[1]): Promise<number[]> => {
        const c = await topic.consumer(`r${++counter}`, { ...opts, until: 'end' });
        const out = [];
        for await (const e of c) out.push(e.id);
        await c.close();
        return out;
      };
      t.deepEqual(await ids({ from: 'earliest' }), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      t.deepEqual(await ids({ from: 'latest' }), []);
      t.deepEqual(await ids({ from: 7 }), [7, 8, 9]);
      t.deepEqual(await ids({ from: middle }), [5, 6, 7, 8, 9]);
      t.deepEqual(await ids({ from: 50 }), []);
      const c = await topic.consumer('lagger');
      const e = (await c.pull())!;
      await e.acknowledge();
      const lag = await c.lag();
      t.is(lag[0].committed, 0);
      t.is(lag[0].endId, 10);
      t.is(lag[0].pendingEvents, 9);
      t.true(lag[0].pendingBytes > 0);
      await t.throwsAsync(topic.resetConsumer('lagger', 'earliest'), { instanceOf: DiasporaError, message: /lagger/ });
      await c.close();
      await topic.resetConsumer('lagger', 6);
      const c2 = await topic.consumer('lagger', { until: 'end' });
      t.is((await c2.pull())!.id, 6);
      await c2.close();
      await topic.resetConsumer('lagger', 'latest');
      const c3 = await topic.consumer('lagger', { until: 'end' });
      t.is(await c3.pull(), null);
      await c3.close();
      await topic.resetConsumer('lagger', middle);
      const c4 = await topic.consumer('lagger', { until: 'end' });
      t.is((await c4.pull())!.id, 5);
    });
  });

  t0(`${label}: two live consumers of one name never share a partition; standby takes over`, async (t) => {
    await withDriver(async (d) => {
      const topic = await topicWith(d, { options: { num_partitions: 2 } });
      const first = await topic.consumer('exclusive');
      const e = await t.throwsAsync(topic.consumer('exclusive'));
      t.true(isCode(ErrorCode.CONSUMER_BUSY)(e));
      const other = await topic.consumer('exclusive-other'); // another name is fine
      await other.close();
      const standbyReady = topic.consumer('exclusive', { standby: true });
      const standby = await standbyReady; // created at once; partitions flow once claimed
      const p = topic.producer();
      await p.push({ n: 1 }, undefined, 0);
      const waiting = standby.pull();
      t.is(await waiting.wait(300), undefined); // partition 0 is held by `first`
      const got = (await first.pull())!;
      await got.acknowledge();
      await first.close();
      await p.push({ n: 2 }, undefined, 0);
      const taken = await waiting.wait(10_000);
      t.truthy(taken);
      t.is(taken!.id, 1);
    });
  });

  t0(`${label}: close() while processing lets processors finish and keeps their acknowledgements`, async (t) => {
    await withDriver(async (d) => {
      const topic = await topicWith(d);
      const p = topic.producer();
      for (let i = 0; i < 50; i++) p.push({ i });
      await p.flush();
      const c = await topic.consumer('closer');
      let processed = 0;
      const running = c.process(async (e) => {
        await new Promise((r) => setTimeout(r, 2));
        processed++;
        await e.acknowledge();
        if (e.id === 9) void c.close();
      });
      const n = await running;
      t.is(n, processed);
      t.true(n >= 10 && n < 50);
      const again = await topic.consumer('closer', { until: 'end' });
      t.is((await again.pull())!.id, n);
    });
  });

  t0(`${label}: a long backlog read with for-await or pull() lets timers run and persists acknowledgements meanwhile`, async (t) => {
    await withDriver(async (d) => {
      const topic = await topicWith(d);
      const p = topic.producer();
      for (let i = 0; i < 20_000; i++) p.push({ i });
      await p.flush();
      const busy = (): void => {
        const until = performance.now() + 0.01; // ~10 µs of work per event: the backlog takes ~200 ms
        while (performance.now() < until);
      };
      for (const mode of ['iterator', 'pull'] as const) {
        const c = await topic.consumer(`backlog-${mode}`, { until: 'end' });
        let timerFired = false;
        setTimeout(() => (timerFired = true), 5);
        let n = 0;
        let persistedMidway: number | null | undefined;
        const onEvent = async (e: Event): Promise<void> => {
          busy();
          void e.acknowledge();
          if (++n === 15_000) {
            const mine = (await topic.listConsumers()).find((x) => x.name === `backlog-${mode}`);
            persistedMidway = mine?.partitions[0]?.lastAcknowledged;
          }
        };
        if (mode === 'iterator') for await (const e of c) await onEvent(e);
        else for (let e = await c.pull(); e !== null; e = await c.pull()) await onEvent(e);
        t.is(n, 20_000);
        t.true(timerFired, `${mode}: a timer ran during the backlog`);
        t.true(typeof persistedMidway === 'number' && persistedMidway > 1000, `${mode}: acknowledged position stored midway: ${persistedMidway}`);
        await c.close();
      }
    });
  });

  t0(`${label}: acknowledgements made in a for-await loop are stored when the loop ends (end reached or break)`, async (t) => {
    await withDriver(async (d) => {
      const topic = await topicWith(d);
      const p = topic.producer();
      for (let i = 0; i < 10; i++) p.push({ i });
      await p.flush();
      const position = async (name: string): Promise<number | null | undefined> =>
        (await topic.listConsumers()).find((x) => x.name === name)?.partitions[0]?.lastAcknowledged;
      const c = await topic.consumer('loop-end', { until: 'end' });
      for await (const e of c) void e.acknowledge();
      t.is(await position('loop-end'), 9);
      const b = await topic.consumer('loop-break');
      for await (const e of b) {
        void e.acknowledge();
        if (e.id === 4) break;
      }
      t.is(await position('loop-break'), 4);
    });
  });

  t0(`${label}: every method on closed objects fails with CLOSED`, async (t) => {
    await withDriver(async (d) => {
      const topic = await topicWith(d);
      const producer = topic.producer();
      await producer.close();
      t.true(isCode(ErrorCode.CLOSED)(await t.throwsAsync(producer.push({}).wait())));
      t.true(isCode(ErrorCode.CLOSED)(await t.throwsAsync(producer.flush().wait())));
      const consumer = await topic.consumer('x');
      await consumer.close();
      t.true(isCode(ErrorCode.CLOSED)(await t.throwsAsync(consumer.pull().wait())));
      t.true(isCode(ErrorCode.CLOSED)(await t.throwsAsync(consumer.process(() => {}))));
      t.true(isCode(ErrorCode.CLOSED)(await t.throwsAsync(consumer.lag())));
      await topic.close();
      t.true(isCode(ErrorCode.CLOSED)(t.throws(() => topic.producer())));
      t.true(isCode(ErrorCode.CLOSED)(await t.throwsAsync(topic.consumer('y'))));
      await d.close();
      for (const call of [() => d.openTopic('a'), () => d.createTopic('a'), () => d.topicExists('a'), () => d.listTopics()]) {
        t.true(isCode(ErrorCode.CLOSED)(await t.throwsAsync(call())));
      }
    });
  });
}
