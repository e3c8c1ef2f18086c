// Child process for the interrupted-reset test: moves a named consumer of a nats topic to an id on every partition
// (the test sets DIASPORA_TEST_NATS_RESET_KILL_AFTER, so it kills itself part way). argv: servers prefix topic name id
import { Driver } from '../../../../../lib/index.js';

const [servers, prefix, topicName, name, id] = process.argv.slice(2);
const driver = await Driver.create('nats', { servers, prefix });
const topic = await driver.openTopic(topicName!);
await topic.resetConsumer(name!, Number(id));
console.log('RESET');
await driver.close();
