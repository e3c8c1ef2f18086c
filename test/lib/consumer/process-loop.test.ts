// process() waiting for the next event: a consumer tailing a partition waits once per commit, for as long as the
// application runs, so a wait must leave nothing behind (racing the loop's long-lived stop promise kept 565 bytes
// per wait).
import test from 'ava';
import v8 from 'node:v8';
import vm from 'node:vm';
import { tailingPair } from './tailing.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

function heapMiB(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 1048576;
}

test('a tailing process() keeps no memory per wait: 10,000 waits for one event each', async (t) => {
  const { consumer, producer } = await tailingPair(t);
  let processed = 0;
  let wake: (() => void) | undefined;
  const running = consumer.process(() => {
    processed++;
    wake?.();
  });
  // Each event is pushed only once the previous one was processed: the consumer has caught up and waits each time.
  const cycle = async (i: number): Promise<void> => {
    const seen = new Promise<void>((r) => (wake = r));
    await producer.push(`{"i":${i}}`);
    await seen;
  };
  for (let i = 0; i < 1000; i++) await cycle(i);
  const before = heapMiB();
  for (let i = 1000; i < 11_000; i++) await cycle(i);
  const after = heapMiB();
  t.is(processed, 11_000);
  // 10,000 waits at 565 bytes each would be 5.4 MiB.
  t.true(after - before < 1.5, `heap grew by ${(after - before).toFixed(2)} MiB over 10,000 waits`);
  await producer.close();
  await consumer.close();
  t.is(await running, 11_000);
});
