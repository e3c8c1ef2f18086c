// Soak child: a named consumer reading live, checking every event (ids dense per partition, bytes exact), and
// acknowledging every 100 events. It stops once it has seen the total written to `expectedFile` (by the test, when
// the producers are done) and prints "SUMMARY <json>".
// argv: root topic name expectedFile
import fs from 'node:fs';
import { Driver, StopEventProcessor, type Event } from '../../../lib/index.js';
import { payload } from '../../storage/helpers.js';

const [root, topicName, name, expectedFile] = process.argv.slice(2);
const driver = await Driver.create('files', { root_path: root });
const topic = await driver.openTopic(topicName);
const consumer = await topic.consumer(name);
const nextId = new Map<number, number>();
const seen = new Map<number, Set<number>>(); // producer -> indexes
let events = 0;
let duplicates = 0;
let badBytes = 0;
let gaps = 0;
let expected = Infinity;
const lastOf = new Map<number, Event>();
/** Acknowledges the last event of every partition (an acknowledgement covers what came before it). */
const ackAll = (): void => {
  for (const e of lastOf.values()) e.acknowledge();
};
const poll = setInterval(() => {
  if (fs.existsSync(expectedFile)) expected = Number(fs.readFileSync(expectedFile, 'utf8'));
  // Caught up and idle when the total became known: closing ends process().
  if (events >= expected) {
    ackAll();
    void consumer.close();
  }
}, 100);
console.log('READY');
await consumer.process((e) => {
  const want = nextId.get(e.partition) ?? 0;
  if (e.id !== want) gaps++;
  nextId.set(e.partition, e.id + 1);
  const { p, i } = e.metadata as { p: number; i: number };
  let set = seen.get(p);
  if (set === undefined) seen.set(p, (set = new Set()));
  if (set.has(i)) duplicates++;
  set.add(i);
  if (!e.data.toBuffer().equals(payload(p, i, 100 + (i % 900)))) badBytes++;
  events++;
  lastOf.set(e.partition, e);
  if (events % 100 === 0) e.acknowledge();
  if (events >= expected) {
    ackAll();
    throw new StopEventProcessor();
  }
}, { timeoutMs: 60_000 }).catch((err: unknown) => {
  if (!(err instanceof StopEventProcessor)) throw err;
});
clearInterval(poll);
await consumer.close();
await driver.close();
const maxOf = (s: Set<number>): number => {
  let m = -1;
  for (const v of s) if (v > m) m = v; // no Math.max(...s): too many arguments for a long soak
  return m;
};
const perProducer = Object.fromEntries([...seen].map(([p, s]) => [p, { count: s.size, max: maxOf(s) }]));
console.log(`SUMMARY ${JSON.stringify({ events, duplicates, badBytes, gaps, perProducer, ends: Object.fromEntries(nextId) })}`);
