// CPU time of a consumer that waits on idle partitions (its safety polls and claim refreshes), as a share of one core:
//   node dist/scripts/bench/idle-consumer.js [partitions=64] [seconds=5]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Driver } from '../../lib/index.js';

const partitions = Number(process.argv[2] ?? 64);
const seconds = Number(process.argv[3] ?? 5);
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'idle-consumer-'));
try {
  const driver = await Driver.create('files', { root_path: root });
  await driver.createTopic('t', { options: { num_partitions: partitions } });
  const topic = await driver.openTopic('t');
  const consumer = await topic.consumer('idle');
  const running = consumer.process(() => undefined);
  await new Promise((r) => setTimeout(r, 1000)); // past the start-up
  const before = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const used = process.cpuUsage(before);
  const share = (used.user + used.system) / 1000 / (performance.now() - t0);
  console.log(`${partitions} idle partitions: ${(100 * share).toFixed(2)} % of a core`);
  await consumer.close();
  await running;
  await driver.close();
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
