// Child process for live-tail tests: waits for commits made by another process and reports what it read.
//   reader-worker <dir> <expectedEnd>
import { PartitionLog } from '../../../storage/partition-log.js';
import { metaOf, payload } from '../helpers.js';

const [dir, endArg] = process.argv.slice(2);
const expected = Number(endArg);
const log = PartitionLog.open(dir!, 0);

async function main(): Promise<void> {
  let next = log.endId;
  process.send!({ type: 'ready', end: next });
  while (next < expected) {
    if (!(await log.waitForAppend(next, 60_000))) {
      process.send!({ type: 'error', message: `no commit past ${next} within 60 s` });
      return;
    }
    for (const ev of log.readRange(next, 1000)) {
      const ok = Buffer.from(ev.metadata).equals(metaOf(0, ev.id)) && Buffer.from(ev.data()).equals(payload(0, ev.id, ev.id % 100));
      if (!ok) process.send!({ type: 'error', message: `event ${ev.id} differs` });
      next = ev.id + 1;
    }
    process.send!({ type: 'seen', end: next });
  }
  log.close();
  process.send!({ type: 'done' }, () => process.exit(0));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
