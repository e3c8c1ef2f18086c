// The error model of `for await`: an event that cannot be delivered ends the loop with its error (naming partition
// and id); it is skipped and not acknowledged, and iterating again resumes with the next event. A closed consumer
// cannot be iterated (CLOSED); closing during a loop ends it.
import test from 'ava';
import path from 'node:path';
import { DataDescriptor, DiasporaError, Driver, ErrorCode, type Consumer, type TopicHandle } from '../../lib/index.js';
import { tempDir } from '../temp-dir.js';

interface Md {
  i: number;
}

async function topicWithEvents(t: Parameters<typeof tempDir>[0], n: number): Promise<TopicHandle> {
  const root = path.join(tempDir(t, 'diaspora-iteration-'), 'root');
  const driver = await Driver.create('files', { root_path: root });
  t.teardown(() => driver.close());
  await driver.createTopic('t');
  const topic = await driver.openTopic('t');
  const p = topic.producer<Md>();
  for (let i = 0; i < n; i++) void p.push({ i }, Buffer.alloc(100, i));
  await p.flush();
  return topic;
}

/** Iterates until the loop ends; returns the ids seen and the error it ended with (if any). */
async function loop(c: Consumer<Md>): Promise<{ ids: number[]; error: DiasporaError | undefined }> {
  const ids: number[] = [];
  try {
    for await (const e of c) {
      ids.push(e.metadata.i);
      void e.acknowledge();
    }
  } catch (err) {
    return { ids, error: err as DiasporaError };
  }
  return { ids, error: undefined };
}

test('a failed selection ends the loop with its error; iterating again resumes after the failed event', async (t) => {
  const topic = await topicWithEvents(t, 6);
  const c = await topic.consumer<Md>('c', {
    until: 'end',
    // event 2: a sub view past the end (INVALID_VIEW); event 4: allocator memory too small (BUFFER_TOO_SMALL)
    dataSelector: (md, d: DataDescriptor) => (md.i === 2 ? d.makeSubView(50, 100) : d),
    dataAllocator: (md, d) => Buffer.alloc(md.i === 4 ? 10 : d.size),
  });
  const first = await loop(c);
  t.deepEqual(first.ids, [0, 1]);
  t.is(first.error?.code, ErrorCode.INVALID_VIEW);
  t.like(first.error?.details, { partition: 0, id: 2 });
  const second = await loop(c);
  t.deepEqual(second.ids, [3]);
  t.is(second.error?.code, ErrorCode.BUFFER_TOO_SMALL);
  t.like(second.error?.details, { partition: 0, id: 4 });
  const third = await loop(c);
  t.deepEqual(third.ids, [5]);
  t.is(third.error, undefined, 'the end: the loop finishes normally');
  t.deepEqual(await loop(c), { ids: [], error: undefined }, 'at the end, iterating again yields nothing');
  await c.close();
  // Acknowledged up to 5: the failed events were skipped by this consumer, which goes on after them next time.
  const [position] = await topic.listConsumers();
  t.deepEqual(position?.partitions, [{ partition: 0, lastAcknowledged: 5 }]);
});

test('for await over a closed consumer fails with CLOSED; closing during a loop ends it', async (t) => {
  const topic = await topicWithEvents(t, 3);
  const closed = await topic.consumer<Md>('closed', { until: 'end' });
  await closed.close();
  const { ids, error } = await loop(closed);
  t.deepEqual(ids, []);
  t.is(error?.code, ErrorCode.CLOSED);

  const live = await topic.consumer<Md>('live'); // no until: would wait forever after the 3 events
  const seen: number[] = [];
  for await (const e of live) {
    seen.push(e.metadata.i);
    if (seen.length === 3) setImmediate(() => void live.close());
  }
  t.deepEqual(seen, [0, 1, 2]);
});
