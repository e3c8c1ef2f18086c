// Writers in two processes taking the leases of two partitions in opposite orders must not deadlock: a writer that
// has to wait for one partition's lock first gives back the leases it holds idle on others (they are only leases:
// nothing is being written to them while this thread waits).
import test from 'ava';
import path from 'node:path';
import { PartitionLog } from '../../storage/partition-log.js';
import { exitOf, forkBin } from './helpers.js';
import { tempDir } from '../temp-dir.js';

test('two processes appending to two partitions in opposite orders both finish (no lock-order deadlock)', async (t) => {
  const root = tempDir(t, 'diaspora-lock-order-');
  const p0 = path.join(root, 'p0');
  const p1 = path.join(root, 'p1');
  const rounds = 20000;
  const one = forkBin(t, 'cross-appender', [p0, p1, 'x', String(rounds)]);
  const two = forkBin(t, 'cross-appender', [p1, p0, 'y', String(rounds)]);
  const [e1, e2] = await Promise.all([exitOf(one), exitOf(two)]);
  t.deepEqual(e1, { code: 0, signal: null });
  t.deepEqual(e2, { code: 0, signal: null });
  for (const dir of [p0, p1]) {
    const log = PartitionLog.open(dir, 0);
    t.teardown(() => log.close());
    t.is(log.endId, 2 * rounds);
    const seen = { x: 0, y: 0 } as Record<string, number>;
    for (const ev of log.readRange(0, 2 * rounds)) {
      const m = JSON.parse(Buffer.from(ev.metadata).toString()) as { tag: string; seq: number };
      t.is(m.seq, seen[m.tag]!, `events of ${m.tag} in order in ${dir}`);
      seen[m.tag]!++;
    }
  }
});
