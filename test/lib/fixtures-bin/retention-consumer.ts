// Child process for the retention tests: a named consumer tailing partition 0 with onTrimmed 'earliest' (or 'error'),
// checking every byte of every event, until it delivered id `count - 1` or its position reached `count`. Prints "GOT <id> <seq>" per event, then
// "RESULT received lost bad" (lost: lag().lostEvents).
// argv: root topic name count
import { Driver, type JsonObject } from '../../../lib/index.js';

const [root, topicName, name, countText] = process.argv.slice(2);
const count = Number(countText);
const driver = await Driver.create('files', { root_path: root });
const topic = await driver.openTopic(topicName);
const consumer = await topic.consumer(name, { onTrimmed: 'earliest' });
console.log('READY');
let received = 0;
let bad = 0;
let pending = consumer.pull();
for (;;) {
  // A pull that timed out is waited for again (a new pull would leave its event to the old one).
  const e = await pending.wait(100);
  if (e === undefined) {
    const [lag] = await consumer.lag();
    if (lag!.position >= count) break;
    continue;
  }
  pending = consumer.pull();
  if (e === null) break;
  const seq = (e.metadata as JsonObject).seq as number;
  const data = e.data.toBuffer();
  if (seq !== e.id || data.length === 0 || data.some((b) => b !== seq % 256)) bad++;
  console.log(`GOT ${e.id} ${seq}`);
  received++;
  void e.acknowledge();
  if (e.id >= count - 1) break;
}
const [lag] = await consumer.lag();
console.log(`RESULT ${received} ${lag!.lostEvents} ${bad}`);
await consumer.close();
await driver.close();
