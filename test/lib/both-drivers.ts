// A fresh topic on the memory driver or on the files driver (in a temp folder), for tests that check both behave
// the same, and a reader of everything a topic stores.
import type { ExecutionContext } from 'ava';
import { Driver, type CreateTopicSpec, type TopicHandle } from '../../lib/index.js';
import { tempDir } from '../temp-dir.js';

export const DRIVER_TYPES = ['memory', 'files'] as const;
export type DriverType = (typeof DRIVER_TYPES)[number];

export async function freshTopic(t: ExecutionContext, type: DriverType, spec: CreateTopicSpec = {}): Promise<{ driver: Driver; topic: TopicHandle }> {
  const driver = await Driver.create(type, type === 'files' ? { root_path: tempDir(t, 'diaspora-both-') } : {});
  t.teardown(() => driver.close());
  await driver.createTopic('t', spec);
  return { driver, topic: await driver.openTopic('t') };
}

/** "partition:id metadataText" of every stored event, in partition then id order. */
export async function storedEvents(topic: TopicHandle): Promise<string[]> {
  const c = await topic.consumer('reader', { until: 'end', durable: false });
  const got: Array<{ partition: number; id: number; text: string }> = [];
  for await (const e of c) got.push({ partition: e.partition, id: e.id, text: e.metadataText });
  await c.close();
  got.sort((a, b) => a.partition - b.partition || a.id - b.id);
  return got.map((e) => `${e.partition}:${e.id} ${e.text}`);
}
