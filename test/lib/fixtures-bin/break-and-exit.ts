// Child process: iterates a consumer with `for await`, acknowledges each event without waiting, breaks out after
// event `stopAt` and exits at once (process.exit: no later turn of the event loop, so nothing scheduled runs).
// What the break wrote is all the next consumer of that name can resume from.
// argv: root topic name stopAt
import { Driver } from '../../../lib/index.js';

const [root, topicName, name, stopAtText] = process.argv.slice(2);
const stopAt = Number(stopAtText);
const driver = await Driver.create('files', { root_path: root });
const topic = await driver.openTopic(topicName);
const consumer = await topic.consumer(name, { until: 'end' });
for await (const e of consumer) {
  void e.acknowledge();
  if (e.id === stopAt) break;
}
console.log('BROKE');
process.exit(0);
