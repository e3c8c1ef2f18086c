// Child process: holds a named consumer on every partition of a topic until SIGTERM (then closes cleanly) or
// SIGKILL. Prints READY once its claims are taken. argv: root topic name
import { Driver } from '../../../lib/index.js';

const [root, topicName, name] = process.argv.slice(2);
const driver = await Driver.create('files', { root_path: root });
const consumer = await (await driver.openTopic(topicName)).consumer(name);
process.on('SIGTERM', () => {
  void consumer.close().then(() => driver.close()).then(() => process.exit(0));
});
console.log('READY');
setInterval(() => {}, 1 << 30); // stay alive until a signal
