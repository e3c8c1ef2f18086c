// One timed read of topic "t" under a files root by a new named consumer, as the consume benchmarks read it:
// metadata as text (and the data bytes, with `withData`), an acknowledgement every 128 events or per batch.
import { Driver } from '../../lib/index.js';

export const READ_MODES = ['process', 'iterate', 'batches'] as const;
export type ReadMode = (typeof READ_MODES)[number];

/** Reads every event of topic "t" (until the end) and returns how many and how long the loop took, in ms. */
export async function timedRead(root: string, mode: ReadMode, withData = false): Promise<{ events: number; ms: number }> {
  const driver = await Driver.create('files', { root_path: root });
  const topic = await driver.openTopic('t');
  const consumer = await topic.consumer(`c${process.pid}`, { until: 'end', batchSize: 128 });
  let n = 0;
  let chars = 0;
  const t0 = performance.now();
  if (mode === 'batches') {
    await consumer.processBatches((b) => {
      for (let i = 0; i < b.length; i++) chars += b.metadataText(i).length + (withData ? b.dataBytes(i).length : 0);
      n += b.length;
      void b.acknowledge();
    });
  } else if (mode === 'process') {
    await consumer.process((e) => {
      chars += e.metadataText.length + (withData ? e.data.size : 0);
      if ((++n & 127) === 0) void e.acknowledge();
    });
  } else {
    for await (const e of consumer) {
      chars += e.metadataText.length + (withData ? e.data.size : 0);
      if ((++n & 127) === 0) void e.acknowledge();
    }
  }
  const ms = performance.now() - t0;
  await consumer.close();
  await driver.close();
  if (chars === 0) throw new Error(`read ${n} events and no bytes`);
  return { events: n, ms };
}
