// Child process for multi-process tests: appends events to partition 0 of a reference-format topic.
// argv: root topic tag count batch [delayMs]. Prints "id <firstId> <count>" after each append returns, then "done".
import { ReferenceTopicStore } from '../../../../storage/reference/reference-topic-store.js';

const [root, topic, tag, countArg, batchArg, delayArg] = process.argv.slice(2);
const count = Number(countArg);
const batch = Number(batchArg);
const delayMs = Number(delayArg ?? '0');
const store = ReferenceTopicStore.open(root!, topic!);
const log = store.partition(0);
const enc = new TextEncoder();

async function main(): Promise<void> {
  let seq = 0;
  while (seq < count) {
    const events = [];
    for (let i = 0; i < batch && seq < count; i++, seq++) {
      const data = new Uint8Array(seq % 200).fill(seq & 0xff);
      events.push({ metadata: enc.encode(JSON.stringify({ tag, seq })), data });
    }
    const r = log.append(events);
    process.stdout.write(`id ${r.firstId} ${r.count}\n`);
    if (delayMs > 0) await new Promise((res) => setTimeout(res, delayMs));
  }
  store.close();
  process.stdout.write('done\n');
}

void main();
