// Child process for the pipeline test. Stages:
//   produce <root> <count>           pushes {seq} into topic "raw" (partition seq % 2), paced
//   transform <root>                 consumes "raw" as "transformer", pushes {seq, doubled} into "cooked" (same
//                                    partition) and acknowledges; exactly-once on restart: it first reads the last
//                                    event of each "cooked" partition to learn which input it already transformed
//   final <root> <count>             consumes "cooked" as "final", prints each seq as a JSON line, stops at count
// SIGTERM: close consumers and producers (flushing, persisting acknowledgements), then exit 0.
import { Driver, type Consumer, type JsonObject, type Producer } from '../../../lib/index.js';

const [stage, root, countText] = process.argv.slice(2);
const driver = await Driver.create('files', { root_path: root, claim_stale_ms: 2000 });
const closing: Array<Consumer | Producer> = [];
process.on('SIGTERM', () => {
  void (async () => {
    for (const c of closing) await c.close();
    await driver.close();
    process.exit(0);
  })();
});

if (stage === 'produce') {
  const producer = (await driver.openTopic('raw')).producer();
  closing.push(producer);
  for (let seq = 0; seq < Number(countText); seq++) {
    await producer.push({ seq }, undefined, seq % 2);
    if (seq % 20 === 19) await new Promise((r) => setTimeout(r, 2));
  }
  await producer.flush();
  console.log('PRODUCED');
} else if (stage === 'transform') {
  const raw = await driver.openTopic('raw');
  const cooked = await driver.openTopic('cooked');
  // Where did the previous run get to? The last output event of each partition names its input id.
  const done = new Map<number, number>();
  for (const p of [0, 1]) {
    const stats = (await cooked.stats()).partitions[p];
    if (stats.events > 0) {
      const last = await cooked.consumer(`transformer-last-${process.pid}`, { targets: [p], from: stats.endId - 1, until: 'end', durable: false });
      const e = (await last.pull())!;
      done.set(p, (e.metadata as JsonObject).input as number);
      await last.close();
    }
  }
  const producer = cooked.producer();
  const consumer = await raw.consumer('transformer', { standby: true });
  closing.push(consumer, producer);
  console.log('READY');
  await consumer.process(async (e) => {
    const md = e.metadata as JsonObject;
    if ((done.get(e.partition) ?? -1) < e.id) {
      await producer.push({ seq: md.seq, doubled: (md.seq as number) * 2, input: e.id }, undefined, e.partition);
    }
    await e.acknowledge();
  });
} else if (stage === 'final') {
  const count = Number(countText);
  const consumer = await (await driver.openTopic('cooked')).consumer('final');
  closing.push(consumer);
  console.log('READY');
  let n = 0;
  await consumer.process(
    (e) => {
      const md = e.metadata as JsonObject;
      console.log(JSON.stringify({ p: e.partition, id: e.id, seq: md.seq, doubled: md.doubled }));
      void e.acknowledge();
      n++;
    },
    { maxEvents: count },
  );
  console.log(`FINAL ${n}`);
  await consumer.close();
  await driver.close();
}
