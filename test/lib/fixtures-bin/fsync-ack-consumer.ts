// Kill-test child: a named consumer that processes and acknowledges every event, recording both in `log` with
// fsynced writes: "P partition id" when processed, "A partition id" once the acknowledgement is stored. With mode
// "end" it stops at the end of what exists and prints DONE; with "live" it waits for more until killed.
// argv: root topic name log mode
import fs from 'node:fs';
import { Driver } from '../../../lib/index.js';

const [root, topicName, name, log, mode] = process.argv.slice(2);
const fd = fs.openSync(log!, 'a');
const record = (line: string): void => {
  fs.writeSync(fd, line + '\n');
  fs.fdatasyncSync(fd);
};
const driver = await Driver.create('files', { root_path: root, claim_stale_ms: 2000 });
const topic = await driver.openTopic(topicName!);
const consumer = await topic.consumer(name!, { standby: true, ...(mode === 'end' ? { until: 'end' as const } : {}) });
console.log('READY');
await consumer.process(async (event) => {
  const { partition, id } = event;
  record(`P ${partition} ${id}`);
  await event.acknowledge().wait();
  record(`A ${partition} ${id}`);
});
await consumer.close();
await driver.close();
console.log('DONE');
