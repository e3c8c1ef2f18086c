// Type-level checks of the published typings, compiled with `tsc --noEmit` (strict, skipLibCheck off) by
// test/package/packed-package.test.ts against the packed package. A `@ts-expect-error` that stops erroring fails
// the compile, so each one below is a real assertion.
import {
  Driver,
  type Consumer,
  type Event,
  type JsonValue,
  type PositionDamage,
  type Producer,
  type TopicHandle,
} from 'diaspora-stream';
import test from 'ava';
import { defineConformanceSuite, registerDriver, type DriverBackend, type TopicBackend } from 'diaspora-stream/driver';
import { tempDriver } from 'diaspora-stream/testing';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(_proof?: T): void {}

interface Order {
  id: string;
  total: number;
}

export async function typed(topic: TopicHandle): Promise<void> {
  const producer = topic.producer<Order>();
  void producer.push({ id: 'a', total: 3 });
  void producer.push('{"id":"b","total":4}'); // JSON text is still accepted
  // @ts-expect-error a field of the wrong type
  void producer.push({ id: 'a', total: 'three' });
  // @ts-expect-error a missing field
  void producer.push({ id: 'a' });

  const consumer = await topic.consumer<Order>('orders', { dataSelector: (md, d) => (md.total > 2 ? d : null) });
  assertType<Equal<typeof consumer, Consumer<Order>>>();
  for await (const event of consumer) {
    assertType<Equal<typeof event, Event<Order>>>();
    assertType<Equal<typeof event.metadata.total, number>>();
  }
  const pulled = await consumer.pull();
  if (pulled) assertType<Equal<typeof pulled.metadata, Order>>();
  await consumer.process((e) => {
    assertType<Equal<typeof e.metadata.id, string>>();
  });
}

export async function untyped(topic: TopicHandle): Promise<void> {
  // Without a type argument everything is JsonValue, as before.
  const producer = topic.producer();
  assertType<Equal<typeof producer, Producer<JsonValue>>>();
  void producer.push({ any: ['json', 1, null] });
  const consumer = await topic.consumer('c');
  const e = await consumer.pull();
  if (e) assertType<Equal<typeof e.metadata, JsonValue>>();
}

export async function surface(driver: Driver): Promise<void> {
  const topic = await driver.openTopic('t');
  // @ts-expect-error @internal members are stripped from the typings
  void TopicHandleStatic.open;
  const consumer = await topic.consumer('c');
  // @ts-expect-error acknowledge is @internal (events acknowledge themselves)
  void consumer.acknowledge(0, 0);
  // @ts-expect-error an unknown option key is a compile error too (and BAD_CONFIG at run time)
  topic.producer({ batchsize: 5 });
  // @ts-expect-error until only takes 'end'
  await topic.consumer('c', { until: 'forever' });
  // A position that cannot be read is listed with `damaged` (the PositionDamage type is in the main entry).
  for (const c of await topic.listConsumers()) {
    for (const p of c.partitions) {
      assertType<Equal<typeof p.damaged, PositionDamage | undefined>>();
      if (p.damaged) assertType<Equal<PositionDamage, { code: 'CORRUPTION'; file: string; message: string }>>();
    }
  }
}
declare const TopicHandleStatic: typeof import('diaspora-stream').TopicHandle;

export function spi(): void {
  // The driver SPI lives in diaspora-stream/driver.
  registerDriver('mine', (): DriverBackend => {
    throw new Error('not built here');
  });
  const name = (t: TopicBackend): string => t.name;
  void name;
  void tempDriver;
}

export function conformance(driver: Driver): void {
  // A driver author runs the conformance suite with ava's own `test`, as this repository does.
  defineConformanceSuite(test, 'mine', async () => ({ driver, reopen: async () => driver, cleanup: async () => {} }));
}

// @ts-expect-error the SPI types are not in the main entry
export type NotInMain = import('diaspora-stream').DriverBackend;
