// Child process for the writer lock race test: stays up across rounds; on {type: 'race', dir, at, round} it waits
// until the wall-clock instant `at` (so that all racers start together), opens partition `dir` (whose lock a
// killed writer left held) and appends RACE_EVENTS events in batches of 1 to 3, then reports which ids it got.
// argv: p (this racer's number)
import { PartitionLog } from '../../../storage/partition-log.js';
import { sleepSync } from '../../../storage/writer-lock.js';
import { RACE_EVENTS, raceEvent } from '../helpers.js';

type Msg = { type: 'race'; dir: string; at: number; round: number } | { type: 'exit' };

const p = Number(process.argv[2]);

process.on('message', (m: Msg) => {
  if (m.type === 'exit') process.exit(0);
  const wait = m.at - Date.now();
  if (wait > 0) sleepSync(wait);
  const appends: [number, number, number][] = []; // firstId, count, index of the batch's first event
  try {
    const log = PartitionLog.open(m.dir, 0, { segmentBytes: 8192 });
    try {
      for (let i = 0, b = 0; i < RACE_EVENTS; b++) {
        const n = Math.min(RACE_EVENTS - i, 1 + ((b + p) % 3));
        const batch = [];
        for (let k = i; k < i + n; k++) batch.push(raceEvent(m.round, p, k));
        const r = log.append(batch);
        appends.push([r.firstId, r.count, i]);
        i += n;
      }
    } finally {
      log.close();
    }
    process.send!({ type: 'raced', p, round: m.round, appends });
  } catch (err) {
    process.send!({ type: 'error', p, round: m.round, message: String((err as Error).stack ?? err), appends });
  }
});
process.send!({ type: 'ready', p });
