// Child process for the crash test: processes events and acknowledges them, logging both to a file with
// synchronous appends (so the log survives SIGKILL): "P partition id" when processed, "A partition id" once the
// acknowledgement future resolved. Paced at about one event per millisecond so kills land mid-stream.
// argv: root topic name logFile
import fs from 'node:fs';
import { Driver } from '../../../lib/index.js';

const [root, topicName, name, log] = process.argv.slice(2);
const driver = await Driver.create('files', { root_path: root, claim_stale_ms: 2000 });
const topic = await driver.openTopic(topicName);
const consumer = await topic.consumer(name, { standby: true, until: 'end' });
console.log('READY');
await consumer.process(async (event) => {
  fs.appendFileSync(log, `P ${event.partition} ${event.id}\n`);
  const { partition, id } = event;
  void event.acknowledge().then(() => fs.appendFileSync(log, `A ${partition} ${id}\n`));
  await new Promise((r) => setTimeout(r, 1));
});
await consumer.close();
await driver.close();
console.log('DONE');
