// Fault-test helpers: temp roots, topics made through the public API, a consumer drained to the end, and a torn tail
// written into a partition (what a writer killed between writing bytes and finishing its index entry leaves behind).
import fs from 'node:fs';
import path from 'node:path';
import type { ExecutionContext } from 'ava';
import { Driver, type TopicHandle } from '../../../lib/index.js';
import { partitionDirName } from '../../../storage/segment-files.js';
import { tempDir } from '../../temp-dir.js';

/** A temp folder removed after the test (the storage tests' helper, with this folder's prefix). */
export function tempRoot(t: ExecutionContext, prefix = 'diaspora-faults-'): string {
  return tempDir(t, prefix);
}

/** Creates `name` with `events` events {i} per partition (and, with format 'reference', converts it). */
export async function makeTopic(root: string, name: string, events: number, opts: { partitions?: number; format?: 'native' | 'reference' } = {}): Promise<void> {
  const d = await Driver.create('files', { root_path: root });
  const native = opts.format === 'reference' ? `${name}-native` : name;
  await d.createTopic(native, { options: { num_partitions: opts.partitions ?? 1 } });
  const topic = await d.openTopic(native);
  const producer = topic.producer();
  for (let p = 0; p < (opts.partitions ?? 1); p++) {
    for (let i = 0; i < events; i++) producer.push({ i, p }, undefined, p);
  }
  await producer.flush();
  await topic.close();
  if (opts.format === 'reference') {
    await d.convertTopic(native, name, 'reference');
    await d.deleteTopic(native);
  }
  await d.close();
}

/** The index file that a torn tail goes into: the last segment's (native) or the only one (reference). */
export function lastIndexFile(root: string, topic: string, partition = 0): string {
  const dir = path.join(root, topic, 'partitions', partitionDirName(partition));
  const indexes = fs.readdirSync(dir).filter((f) => f === 'index' || f.endsWith('.index')).sort();
  if (indexes.length === 0) throw new Error(`no index file in ${dir}`);
  return path.join(dir, indexes[indexes.length - 1]!);
}

/** Appends `bytes` garbage bytes (less than one entry: a partial index entry) past the end of the index. */
export function tearTail(root: string, topic: string, partition = 0, bytes = 7): string {
  const file = lastIndexFile(root, topic, partition);
  fs.appendFileSync(file, Buffer.alloc(bytes, 0xa5));
  return file;
}

/** Ids a named consumer delivers from its position to the end, each acknowledged (the position moves with them). */
export async function drain(topic: TopicHandle, name: string): Promise<number[]> {
  const c = await topic.consumer(name, { until: 'end' });
  const ids: number[] = [];
  await c.process((e) => {
    ids.push(e.id);
    e.acknowledge();
  });
  await c.close();
  return ids;
}
