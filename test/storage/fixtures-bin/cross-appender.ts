// Child process of the cross-partition lock test: appends `rounds` single-event batches to partition folder A then
// partition folder B, alternately, then prints the time it took and exits 0 (a LOCK_FAILED exits 1 with the error).
// Two of these with A and B swapped is the classic lock-order inversion: each holds the lease of its first
// partition while it asks for its second.
// argv: dirA dirB tag rounds
import { PartitionLog } from '../../../storage/partition-log.js';

const [dirA, dirB, tag, roundsText] = process.argv.slice(2) as [string, string, string, string];
const rounds = Number(roundsText);
const a = PartitionLog.open(dirA, 0);
const b = PartitionLog.open(dirB, 1);
try {
  for (let seq = 0; seq < rounds; seq++) {
    a.append([{ metadata: Buffer.from(JSON.stringify({ tag, seq })) }]);
    b.append([{ metadata: Buffer.from(JSON.stringify({ tag, seq })) }]);
  }
} catch (err) {
  console.error(`${tag}: ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  a.close();
  b.close();
}
