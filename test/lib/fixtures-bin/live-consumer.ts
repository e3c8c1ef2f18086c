// Child process: a named consumer that prints every event as a JSON line, acknowledging as it goes.
// argv: root topic name count [idleMs]. With idleMs it first waits that long on an idle topic and reports the
// CPU time it used meanwhile (IDLE_CPU_MS n), so the parent can check that waiting does not spin.
import { Driver, type JsonObject } from '../../../lib/index.js';

const [root, topicName, name, countText, idleText] = process.argv.slice(2);
const count = Number(countText);
const driver = await Driver.create('files', { root_path: root });
const topic = await driver.openTopic(topicName);
const consumer = await topic.consumer(name);
let first: Awaited<ReturnType<typeof consumer.pull>> | undefined;
if (idleText) {
  const before = process.cpuUsage();
  const pending = consumer.pull();
  console.log('READY');
  first = await pending.wait(Number(idleText));
  const used = process.cpuUsage(before);
  console.log(`IDLE_CPU_MS ${((used.user + used.system) / 1000).toFixed(1)}`);
  if (first === undefined) first = await pending; // nothing lost by the timed-out wait
} else {
  console.log('READY');
}
let n = 0;
const emit = (e: NonNullable<typeof first>): void => {
  console.log(JSON.stringify({ p: e.partition, id: e.id, seq: (e.metadata as JsonObject).seq, t: Date.now() }));
  void e.acknowledge();
  n++;
};
if (first) emit(first);
while (n < count) {
  const e = await consumer.pull();
  if (!e) break;
  emit(e);
}
await consumer.close();
await driver.close();
console.log('DONE');
