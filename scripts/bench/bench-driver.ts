// Opening the driver and topic a benchmark runs on, from the reference benchmarks' options.
import fs from 'node:fs';
import { Driver, type JsonObject, type TopicHandle } from '../../lib/index.js';

export interface BenchTarget {
  driver: string;
  config?: string;
  root?: string;
  topic: string;
  partitions: number;
}

export async function openBenchTopic(o: BenchTarget, create: boolean): Promise<{ driver: Driver; topic: TopicHandle }> {
  let config: JsonObject = {};
  if (o.config) config = JSON.parse(fs.readFileSync(o.config, 'utf8')) as JsonObject;
  if (o.root) config = { ...config, root_path: o.root };
  const driver = await Driver.create(o.driver, config);
  if (create && !(await driver.topicExists(o.topic))) {
    await driver.createTopic(o.topic, { options: { num_partitions: o.partitions } });
  }
  return { driver, topic: await driver.openTopic(o.topic) };
}
