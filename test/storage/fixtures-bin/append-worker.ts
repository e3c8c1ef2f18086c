// Child process for multi-process tests: appends events of producer `p` to one partition.
//   append-worker <dir> <p> <count> [segmentBytes]   appends `count` events in varied batches, reports firstIds
//   append-worker <dir> <p> forever [segmentBytes] [flushBehavior]   appends until killed, logging each returned
//                                                                   append to <dir>.acks
import fs from 'node:fs';
import { PartitionLog } from '../../../storage/partition-log.js';
import type { AppendEvent, FlushBehavior } from '../../../storage/types.js';
import { payload, metaOf } from '../helpers.js';

const [dir, pArg, countArg, segArg, flushArg] = process.argv.slice(2);
const p = Number(pArg);
const segmentBytes = segArg === undefined ? 64 * 1024 : Number(segArg);
const flushBehavior = (flushArg ?? 'buffered') as FlushBehavior;
const log = PartitionLog.open(dir!, 0, { segmentBytes, lockStaleMs: 2000, flushBehavior });
const send = (m: unknown): Promise<void> => new Promise((resolve) => process.send!(m, () => resolve()));

function batch(from: number, size: number, dataSize: (i: number) => number): AppendEvent[] {
  const out: AppendEvent[] = [];
  for (let i = from; i < from + size; i++) out.push({ metadata: metaOf(p, i), data: payload(p, i, dataSize(i)) });
  return out;
}

async function main(): Promise<void> {
  if (countArg === 'forever') {
    // Each append that returned is recorded synchronously in an ack file (it survives SIGKILL: the kernel has it),
    // and the loop never yields, so a kill almost always lands inside an append.
    const ackFd = fs.openSync(`${dir}.acks`, 'a');
    await send({ type: 'ready' });
    for (let i = 0, b = 0; ; b++) {
      const size = 1 + ((b * 7 + p) % 40);
      const r = log.append(batch(i, size, (k) => (k * 7919) % 200_000));
      if (flushBehavior === 'on_flush' && b % 3 === 0) log.flush();
      fs.writeSync(ackFd, `${r.firstId} ${r.count} ${i}\n`);
      i += size;
    }
  }
  const count = Number(countArg);
  const firstIds: [number, number][] = [];
  for (let i = 0, b = 0; i < count; b++) {
    const size = Math.min(count - i, 1 + ((b * 13 + p * 5) % 60));
    const r = log.append(batch(i, size, (k) => (k * 17 + p) % 300));
    firstIds.push([r.firstId, r.count]);
    i += size;
    // Yield now and then so the lease's idle release and other writers both get exercised.
    if (b % 5 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  log.close();
  await send({ type: 'done', p, firstIds });
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
