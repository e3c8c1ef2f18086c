// Child process: topic.resetConsumer(name, id) on every partition, then prints DONE. Run with the storage reset kill
// hook (RESET_KILL_ENV) set, it SIGKILLs itself at that step of the reset. argv: root topic name id
import { Driver } from '../../../lib/index.js';

const [root, topicName, name, id] = process.argv.slice(2);
const driver = await Driver.create('files', { root_path: root! });
const topic = await driver.openTopic(topicName!);
await topic.resetConsumer(name!, Number(id));
await driver.close();
console.log('DONE');
