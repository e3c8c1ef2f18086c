// Child process for the thread-pool crash test: a durable consumer whose processor (thread-work.js, default export)
// runs on a 2-thread pool, logs each event to `log` and acknowledges it. Reads until the end, closes and then
// lets the process exit by itself (no process.exit): a worker thread left running would keep it alive.
// argv: root topic consumerName log
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Driver, makeThreadPool } from '../../../lib/index.js';

const [root, topicName, name, log] = process.argv.slice(2);
process.env.DIASPORA_THREAD_LOG = log;
const work = path.join(path.dirname(fileURLToPath(import.meta.url)), 'thread-work.js');
const driver = await Driver.create('files', { root_path: root });
const topic = await driver.openTopic(topicName);
const consumer = await topic.consumer(name, { until: 'end' });
console.log('READY');
const n = await consumer.process({ module: work }, { threadPool: makeThreadPool(2) });
await consumer.close();
await driver.close();
console.log(`DONE ${n}`);
