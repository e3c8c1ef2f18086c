// verify() on a partition that another process trims meanwhile: what retention removes during the check is not
// damage. Before, a verify racing a trim reported segments it had listed and then found unlinked as missing
// ("segment file is missing", "segments holding ids ... are missing", "sealed segment holds 0 entries") or failed
// with CORRUPTION ("cannot open segment file"): `diaspora-ctl verify` exited 3 on a healthy live topic.
import test from 'ava';
import { verifyPartition } from '../../../storage/partition-verify.js';
import { exitOf, forkBin, nextMessage, verifyWhile } from '../helpers.js';
import { events, makeTopic } from './retention-fixture.js';

test('verify while another process trims segment after segment: no problem reported, none thrown', async (t) => {
  const { root, store, dir } = makeTopic(t, { keepUntilAckedBy: ['a'] });
  const log = store.partition(0);
  const segments = 120;
  for (let k = 0; k < segments; k++) log.append(events(4 * k, 4, 1000)); // 4 events a segment
  store.close();
  const child = forkBin(t, 'step-trimmer', [root, 't', String(segments - 1), '4']);
  const done = nextMessage<{ type: string; firstId: number }>(child, (m) => m.type === 'done');
  const { passes, seen } = await verifyWhile(dir, done);
  t.is((await done).firstId, 4 * (segments - 1));
  await exitOf(child);
  t.true(passes > 5, `${passes} verify passes during the trims`);
  t.deepEqual(seen, [], `${passes} passes`);
  t.deepEqual(verifyPartition(dir), []);
});
