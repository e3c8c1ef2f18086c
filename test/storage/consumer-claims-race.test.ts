// Many processes racing to claim a partition whose holder was SIGKILLed: exactly one wins when nobody releases,
// and as holders release, standbys take over one at a time. Every holder journals "enter"/"exit" around its hold
// (appends to one file: a single total order), so two holders at once show up as overlapping entries.
import test from 'ava';
import type { Serializable } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { forkBin, exitOf, nextMessage } from './helpers.js';
import { tempDir } from '../temp-dir.js';

const ROUNDS = 20;
const RACERS = 6;
const HOLD_MS = 5;
const ROUND_TIMEOUT_MS = 30_000;

type Reply = { type: string; code?: string; message?: string };

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ROUND_TIMEOUT_MS} ms`)), ROUND_TIMEOUT_MS);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** Overlapping holds in a journal of "enter <pid>" / "exit <pid>" lines, and the pids that held the claim. */
function readJournal(file: string): { overlaps: number; holders: string[] } {
  const lines = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter((l) => l !== '') : [];
  let inside: string | null = null;
  let overlaps = 0;
  const holders: string[] = [];
  for (const line of lines) {
    const [what, pid] = line.split(' ') as [string, string];
    if (what === 'enter') {
      if (inside !== null) overlaps++;
      inside = pid;
      holders.push(pid);
    } else {
      if (inside !== pid) overlaps++;
      inside = null;
    }
  }
  if (inside !== null) overlaps++; // a hold never closed
  return { overlaps, holders };
}

test(`${RACERS} processes race to claim a partition whose holder was SIGKILLed, ${ROUNDS} rounds: one winner, never two holders, standbys take over on release`, async (t) => {
  const root = tempDir(t, 'ds-claim-race-');
  const racers = Array.from({ length: RACERS }, () => forkBin(t, 'claim-racer', []));
  await Promise.all(racers.map((c) => nextMessage<Reply>(c, (m) => m.type === 'ready')));
  const ask = (types: string[], msg: (i: number) => Serializable): Promise<Reply[]> =>
    withTimeout(
      Promise.all(
        racers.map((c, i) => {
          const reply = nextMessage<Reply>(c, (m) => types.includes(m.type) || m.type === 'error');
          c.send(msg(i));
          return reply;
        }),
      ),
      'racers',
    );
  const problems: string[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const topic = path.join(root, `topic-${round}`);
    const journal = path.join(root, `journal-${round}`);
    fs.mkdirSync(topic);
    const holder = forkBin(t, 'consumer-claim-holder', [topic, 'c', '0', '5000', '0']);
    await nextMessage<Reply>(holder, (m) => m.type === 'claimed');
    holder.kill('SIGKILL');
    await exitOf(holder);

    const at = Date.now() + 50; // all racers try at this instant
    const first = await ask(['claimed', 'busy'], () => ({ type: 'claim', topic, at, journal }));
    const winners = first.filter((r) => r.type === 'claimed').length;
    if (winners !== 1) problems.push(`round ${round}: ${winners} winners`);
    for (const r of first) {
      if (r.type === 'error' || (r.type === 'busy' && r.code !== 'CONSUMER_BUSY')) problems.push(`round ${round}: ${r.code ?? ''} ${r.message}`);
    }
    // Holders give the claim up after HOLD_MS; every standby takes it in turn.
    const second = await ask(['released', 'took'], () => ({ type: 'standby', topic, journal, holdMs: HOLD_MS }));
    for (const r of second) if (r.type === 'error') problems.push(`round ${round}: ${r.message}`);
    const { overlaps, holders } = readJournal(journal);
    if (overlaps > 0) problems.push(`round ${round}: ${overlaps} overlapping holds`);
    if (new Set(holders).size !== RACERS) problems.push(`round ${round}: ${new Set(holders).size} distinct holders, expected ${RACERS}`);
  }
  for (const c of racers) c.send({ type: 'exit' });
  await Promise.all(racers.map(exitOf));
  t.deepEqual(problems, []);
});
