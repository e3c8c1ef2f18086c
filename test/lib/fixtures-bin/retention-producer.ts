// Child process for the retention tests: pushes `count` events {seq} to partition 0, each with `dataBytes` bytes
// of data all equal to seq % 256 (so a reader can check every byte), pausing now and then so consumers run live.
// argv: root topic count dataBytes segmentBytes
import { Driver } from '../../../lib/index.js';

const [root, topicName, countText, dataText, segText] = process.argv.slice(2);
const driver = await Driver.create('files', { root_path: root, segment_bytes: Number(segText) });
const topic = await driver.openTopic(topicName);
const producer = topic.producer();
for (let seq = 0; seq < Number(countText); seq++) {
  await producer.push({ seq }, Buffer.alloc(Number(dataText), seq % 256));
  if (seq % 50 === 49) await new Promise((r) => setTimeout(r, 2));
}
await producer.flush();
console.log('PRODUCED');
await driver.close();
