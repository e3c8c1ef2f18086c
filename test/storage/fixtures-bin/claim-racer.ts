// Child process for the claim race test: stays up across rounds. Messages:
//   {type: 'claim', topic, at, journal}   at the instant `at`, claim partition 0 of consumer "c" without standby;
//                                         the winner writes "enter <pid>" to the journal and keeps the claim
//   {type: 'standby', topic, journal, holdMs}
//                                         the holder gives the claim up after holdMs; the others wait as standbys,
//                                         and each, once it holds the claim, holds it holdMs and gives it up
// Every holder appends "enter <pid>" after taking and "exit <pid>" before releasing (O_APPEND: one total order),
// so overlapping holders show up in the journal.
import fs from 'node:fs';
import { ConsumerClaims, type Claim } from '../../../storage/consumer-claims.js';
import { sleepSync } from '../../../storage/writer-lock.js';

type Msg =
  | { type: 'claim'; topic: string; at: number; journal: string }
  | { type: 'standby'; topic: string; journal: string; holdMs: number }
  | { type: 'exit' };

let held: Claim | null = null;
const note = (journal: string, what: string): void => fs.appendFileSync(journal, `${what} ${process.pid}\n`);
const send = (m: unknown): void => {
  process.send!(m);
};

async function holdThenRelease(journal: string, holdMs: number): Promise<void> {
  await new Promise((r) => setTimeout(r, holdMs));
  const claim = held!;
  held = null;
  if (claim.lost) throw new Error('claim lost while held');
  note(journal, 'exit');
  claim.release();
}

async function onMessage(m: Msg): Promise<void> {
  if (m.type === 'exit') process.exit(0);
  if (m.type === 'claim') {
    const wait = m.at - Date.now();
    if (wait > 0) sleepSync(wait);
    try {
      held = await ConsumerClaims.acquire(m.topic, 'c', 0, { standby: false });
      note(m.journal, 'enter');
      send({ type: 'claimed' });
    } catch (err) {
      send({ type: 'busy', code: (err as { code?: string }).code, message: (err as Error).message });
    }
    return;
  }
  if (held !== null) {
    await holdThenRelease(m.journal, m.holdMs);
    send({ type: 'released' });
    return;
  }
  held = await ConsumerClaims.acquire(m.topic, 'c', 0, { standby: true, pollMs: 20 });
  note(m.journal, 'enter');
  await holdThenRelease(m.journal, m.holdMs);
  send({ type: 'took' });
}

process.on('message', (m: Msg) => {
  onMessage(m).catch((err: unknown) => send({ type: 'error', message: String((err as Error).stack ?? err) }));
});
send({ type: 'ready' });
