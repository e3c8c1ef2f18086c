// Soak child: pushes events {p, i} with deterministic data (test/storage/helpers.ts payload) for `ms` milliseconds,
// in batches with short pauses, then prints "PRODUCED <count>".
// argv: root topic producerIndex ms
import { Driver } from '../../../lib/index.js';
import { payload } from '../../storage/helpers.js';

const [root, topicName, pText, msText] = process.argv.slice(2);
const p = Number(pText);
const until = Date.now() + Number(msText);
const driver = await Driver.create('files', { root_path: root, segment_bytes: 1 << 20 });
const topic = await driver.openTopic(topicName);
const producer = topic.producer({ name: `soak-${p}` });
let i = 0;
while (Date.now() < until) {
  for (let k = 0; k < 50; k++, i++) producer.push({ p, i }, payload(p, i, 100 + (i % 900)));
  await producer.flush();
  await new Promise((r) => setTimeout(r, 5));
}
await producer.flush();
await driver.close();
console.log(`PRODUCED ${i}`);
