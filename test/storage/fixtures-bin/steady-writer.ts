// Child process for the writer lease test: a writer that never goes idle.
//   steady-writer <dir> <readyFile>   appends small batches in one synchronous loop (the event loop never turns, so
//   the lease's idle release cannot fire) until another writer's events show up as a gap in the ids it gets (the
//   lease was handed over), or 60 s pass; then reports { gap }.
import fs from 'node:fs';
import { PartitionLog } from '../../../storage/partition-log.js';
import type { AppendEvent } from '../../../storage/types.js';
import { metaOf } from '../helpers.js';

const [dir, readyFile] = process.argv.slice(2);
const log = PartitionLog.open(dir!, 0, { segmentBytes: 1 << 20 });
const send = (m: unknown): Promise<void> => new Promise((resolve) => process.send!(m, () => resolve()));

function batch(from: number): AppendEvent[] {
  const out: AppendEvent[] = [];
  for (let i = from; i < from + 8; i++) out.push({ metadata: metaOf(0, i), data: new Uint8Array(0) });
  return out;
}

async function main(): Promise<void> {
  let i = 0;
  let r = log.append(batch(i));
  fs.writeFileSync(readyFile!, ''); // the lease is ours now
  const deadline = Date.now() + 60_000;
  let gap = false;
  while (!gap && Date.now() < deadline) {
    const expected = r.firstId + r.count;
    i += r.count;
    r = log.append(batch(i));
    gap = r.firstId !== expected;
  }
  log.close();
  await send({ gap });
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
