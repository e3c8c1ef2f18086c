// A named consumer whose acknowledged position lies past the partition's end (its acknowledged events were cut,
// e.g. by recovery after a power cut in 'buffered' mode: simulated by an offset file written beyond the end) fails
// with POSITION_PAST_END instead of waiting at its old position and skipping the ids that new events get.
import test from 'ava';
import path from 'node:path';
import { DiasporaError, Driver, ErrorCode, type TopicHandle } from '../../../lib/index.js';
import { ConsumerOffsets } from '../../../storage/consumer-offsets.js';
import { drain, makeTopic, tempRoot } from './torn-tail.js';

/** Writes `lastAcked` as consumer `name`'s position in partition 0, as a lost tail would leave it. */
function ackBeyondEnd(root: string, topic: string, name: string, lastAcked: number): void {
  const offsets = ConsumerOffsets.open(path.join(root, topic), name);
  offsets.store(0, lastAcked);
  offsets.close();
}

test('acknowledged past the end: POSITION_PAST_END (also once new events arrive), claims released; a reset resumes without skipping', async (t) => {
  const root = tempRoot(t);
  await makeTopic(root, 'lost', 10);
  const d = await Driver.create('files', { root_path: root });
  try {
    const topic = await d.openTopic('lost');
    t.deepEqual(await drain(topic, 'late'), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    ackBeyondEnd(root, 'lost', 'late', 14); // ids 10..14 were acknowledged, then lost
    const err = await t.throwsAsync(topic.consumer('late'), { instanceOf: DiasporaError });
    t.is((err as DiasporaError).code, ErrorCode.POSITION_PAST_END);
    t.like((err as DiasporaError).details, { partition: 0, lastAcknowledged: 14, endId: 10 });
    t.regex(err!.message, /resetConsumer/);
    // New events get ids 10..12, below the stale position: still an error, never a silent skip.
    const producer = topic.producer();
    for (let i = 0; i < 3; i++) producer.push({ fresh: i });
    await producer.flush();
    const again = await t.throwsAsync(topic.consumer('late'), { instanceOf: DiasporaError });
    t.is((again as DiasporaError).code, ErrorCode.POSITION_PAST_END, 'not CONSUMER_BUSY: the failed open released its claims');
    // A standby consumer reports it on its first read.
    const standby = await topic.consumer('late', { standby: true });
    const pulled = await t.throwsAsync(standby.pull().wait(), { instanceOf: DiasporaError });
    t.is((pulled as DiasporaError).code, ErrorCode.POSITION_PAST_END);
    await standby.close();
    // The fix: move it to the first event it has not seen.
    await topic.resetConsumer('late', 10);
    t.deepEqual(await drain(topic, 'late'), [10, 11, 12]);
    // Exactly at the end is fine (nothing lost): the next event is delivered.
    const c = await topic.consumer('late');
    producer.push({ next: true });
    await producer.flush();
    const e = await c.pull().wait();
    t.is(e?.id, 13);
    await c.close();
    await topic.close();
  } finally {
    await d.close();
  }
});

test("from: 'earliest' with a stale position also fails (its acknowledgements could not be stored below it)", async (t) => {
  const root = tempRoot(t);
  await makeTopic(root, 'lost', 4);
  ackBeyondEnd(root, 'lost', 'late', 7);
  const d = await Driver.create('files', { root_path: root });
  try {
    const topic = await d.openTopic('lost');
    const err = await t.throwsAsync(topic.consumer('late', { from: 'earliest' }), { instanceOf: DiasporaError });
    t.is((err as DiasporaError).code, ErrorCode.POSITION_PAST_END);
    // Non-durable readers have no position and are unaffected.
    const reader = await topic.consumer('late', { durable: false, until: 'end' });
    const ids: number[] = [];
    await reader.process((ev) => void ids.push(ev.id));
    t.deepEqual(ids, [0, 1, 2, 3]);
    await topic.close();
  } finally {
    await d.close();
  }
});
