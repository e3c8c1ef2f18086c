// Child process for the retention tests: calls topic.trim() in a loop until `stopFile` exists, then once more.
// argv: root topic stopFile segmentBytes. Prints "TRIMMED <events removed>".
import fs from 'node:fs';
import { Driver } from '../../../lib/index.js';

const [root, topicName, stopFile, segText] = process.argv.slice(2);
const driver = await Driver.create('files', { root_path: root, segment_bytes: Number(segText) });
const topic = await driver.openTopic(topicName);
let removed = 0;
const trim = async (): Promise<void> => {
  for (const p of await topic.trim()) removed += p.removedEvents;
};
while (!fs.existsSync(stopFile!)) {
  await trim();
  await new Promise((r) => setTimeout(r, 5));
}
await trim();
console.log(`TRIMMED ${removed}`);
await driver.close();
