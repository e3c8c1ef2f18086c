// Conformance checks of consumers: delivery order and waiting, data selection, process(), named consumers and
// their positions, exclusivity, closing (ConsumerTest, EventConsumerTest, test_consumer.py of the reference).
import {
  DataDescriptor,
  DataView,
  DiasporaError,
  Driver,
  ErrorCode,
  Event,
  StopEventProcessor,
  TopicHandle,
  type JsonObject,
} from '../../index.js';
import { enc, isCode, LOWER, UPPER, type SuiteContext } from './context.js';

export function defineConsumerChecks(ctx: SuiteContext): void {
  const { test: t0, label, withDriver, topicWith, fresh } = ctx;

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

  t0(`${label}: processBatches delivers every event once, in batches of consecutive ids; a batch acknowledgement is resumed after`, async (t) => {
    await withDriver(async (d) => {
      const topic = await seed100(d);
      const consumer = await topic.consumer('batches', { batchSize: 16 });
      const ids: number[] = [];
      let acked: PromiseLike<void> | undefined;
      let ackedLast = -1;
      const n = await consumer.processBatches((b) => {
        t.true(b.length >= 1 && b.length <= 16);
        for (let i = 0; i < b.length; i++) {
          t.is(b.id(i), b.firstId + i);
          t.is(b.metadataText(i), `{"event_num":${b.id(i)}}`);
          t.is(Buffer.from(b.dataBytes(i)).toString(), `This is data for event ${b.id(i)}`);
          ids.push(b.id(i));
        }
        if (b.lastId < 60) {
          acked = b.acknowledge();
          ackedLast = b.lastId;
        }
      }, { maxEvents: 70 });
      t.is(n, 70);
      t.deepEqual(ids, Array.from({ length: 70 }, (_, i) => i));
      await acked;
      await consumer.close();
      const again = await topic.consumer('batches', { batchSize: 16 });
      const first = await new Promise<number>((resolve, reject) => {
        again.processBatches((b) => {
          resolve(b.firstId);
          throw new StopEventProcessor();
        }).catch(reject);
      });
      await again.close();
      t.true(ackedLast >= 0);
      t.is(first, ackedLast + 1, 'resumed after the last batch acknowledged');
    });
  });

  t0(`${label}: deleteConsumer refuses a live consumer (CONSUMER_BUSY), then forgets it: not listed, a new one of the name starts over`, async (t) => {
    await withDriver(async (d) => {
      const topic = await seed100(d);
      const live = await topic.consumer('doomed');
      for (let i = 0; i < 10; i++) await (await live.pull())!.acknowledge();
      const busy = await t.throwsAsync(topic.deleteConsumer('doomed'));
      t.is((busy as DiasporaError).code, ErrorCode.CONSUMER_BUSY);
      t.true((await topic.listConsumers()).some((c) => c.name === 'doomed'), 'kept after the refusal');
      await live.close();
      t.true(await topic.deleteConsumer('doomed'));
      t.false((await topic.listConsumers()).some((c) => c.name === 'doomed'));
      t.false(await topic.deleteConsumer('doomed'), 'nothing left to delete');
      const again = await topic.consumer('doomed');
      t.is((await again.pull())?.id, 0, 'starts from the first event again');
      await again.close();
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
      // Past the end: the reference clamps (delivering 'YZ'); here that event fails with INVALID_VIEW and the
      // consumer goes on with the next one.
      await topic.producer().push({ n: 2 }, enc('after'));
      const c = await topic.consumer('clamped', { dataSelector: (_m, dd) => (dd.size === 52 ? dd.makeSubView(50, 100) : dd), until: 'end' });
      const failed = await t.throwsAsync(c.pull());
      t.is((failed as DiasporaError).code, ErrorCode.INVALID_VIEW);
      t.is((failed as DiasporaError).details.id, 0);
      t.is((await c.pull())!.data.toBuffer().toString(), 'after');
      await c.close();
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
        const c = await topic.consumer(fresh('r'), { ...opts, until: 'end' });
        const out = [];
        for await (const e of c) out.push(e.id);
        await c.close();
        return out;
      };
      t.deepEqual(await ids({ from: 'earliest' }), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      t.deepEqual(await ids({ from: 'latest' }), []);
      t.deepEqual(await ids({ from: 7 }), [7, 8, 9]);
      // A format that stores no commit times (timestamp 0: the reference files format) cannot seek by time.
      const probe = await topic.consumer(fresh('probe'), { durable: false, until: 'end' });
      const stamped = (await probe.pull())!.timestamp !== 0;
      await probe.close();
      const untimed = (err: unknown): void => void t.true(isCode(ErrorCode.UNSUPPORTED)(err), `seek by time without timestamps: ${String(err)}`);
      if (stamped) t.deepEqual(await ids({ from: middle }), [5, 6, 7, 8, 9]);
      else untimed(await t.throwsAsync(ids({ from: middle })));
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
      if (stamped) {
        await topic.resetConsumer('lagger', middle);
        const c4 = await topic.consumer('lagger', { until: 'end' });
        t.is((await c4.pull())!.id, 5);
      } else untimed(await t.throwsAsync(topic.resetConsumer('lagger', middle)));
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
