// Child process: pushes `count` events {seq} round robin, pausing now and then so a consumer sees them live.
// argv: root topic count
import { Driver } from '../../../lib/index.js';

const [root, topicName, countText] = process.argv.slice(2);
const count = Number(countText);
const driver = await Driver.create('files', { root_path: root });
const topic = await driver.openTopic(topicName);
const producer = topic.producer({ name: `producer-${process.pid}` });
for (let seq = 0; seq < count; seq++) {
  await producer.push({ seq }, Buffer.from(`payload ${seq}`));
  if (seq % 100 === 99) await new Promise((r) => setTimeout(r, 5));
}
await producer.flush();
console.log(`PRODUCED ${Date.now()}`);
await driver.close();
