// Producers' trims and a wall clock stepped back (NTP, a VM resumed): the once-a-second check must not wait for the
// clock to come back to where it was. Date.now is replaced here, so these tests have a file of their own.
import test from 'ava';
import { tempDir } from '../temp-dir.js';
import { Driver } from '../../lib/index.js';

test.serial('a producer keeps trimming after the wall clock steps back an hour', async (t) => {
  const realNow = Date.now;
  t.teardown(() => void (Date.now = realNow));
  const d = await Driver.create('files', { root_path: tempDir(t, 'diaspora-retention-clock-'), segment_bytes: 4096 });
  t.teardown(() => d.close());
  await d.createTopic('t', { options: { retention_bytes: 10_000 } });
  const topic = await d.openTopic('t');
  const p = topic.producer();
  const push = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) await p.push({ i }, Buffer.alloc(1000, i));
  };
  await push(20);
  const first = (await topic.stats()).partitions[0]!.firstId;
  Date.now = () => realNow() - 3600_000;
  await new Promise((r) => setTimeout(r, 1100)); // more than the check interval, in real time
  await push(20);
  await p.close();
  const after = (await topic.stats()).partitions[0]!;
  t.true(after.firstId > first, `first id ${first} -> ${after.firstId}: the producer trimmed again`);
});
