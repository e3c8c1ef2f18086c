// Shared set-up of the consumer tests that wait for events one at a time: a files topic of one partition, a named
// consumer and a producer, both with batches of one event (each push is a commit the consumer waits for).
import type { ExecutionContext } from 'ava';
import { Driver } from '../../../lib/index.js';
import { tempDir } from '../../temp-dir.js';

export async function tailingPair(t: ExecutionContext) {
  const driver = await Driver.create('files', { root_path: tempDir(t) });
  t.teardown(() => driver.close());
  await driver.createTopic('t', { options: { num_partitions: 1 } });
  const topic = await driver.openTopic('t');
  const consumer = await topic.consumer('tail', { batchSize: 1 });
  const producer = topic.producer({ batchSize: 1 });
  return { consumer, producer };
}
