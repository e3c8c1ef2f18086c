// Many processes racing for the writer lock of a partition whose writer was SIGKILLed while holding it: exactly
// one may take it over at a time. Before the generation lock, contenders broke each other's brand-new locks
// (ids handed out twice, records overwritten, checksums failing).
import test, { type ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PartitionLog } from '../../storage/partition-log.js';
import { GenerationLock } from '../../storage/generation-lock.js';
import { WRITER_LOCK_FOLDER } from '../../storage/writer-lock.js';
import { forkBin, exitOf, nextMessage, RACE_EVENTS, raceEvent } from './helpers.js';
import { tempDir } from '../temp-dir.js';

const ROUNDS = 24;
const RACERS = 6;
const HOLDER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'reference', 'fixtures-bin', 'hold-writer-lock.js');

interface Report {
  type: 'raced' | 'error';
  p: number;
  appends: [number, number, number][];
  message?: string;
}

/** Leaves `dir`'s writer lock held by a dead process: a lock holder or a writer killed mid-append (odd rounds). */
async function killHolder(t: ExecutionContext, dir: string, round: number): Promise<number> {
  if (round % 2 === 1) {
    const writer = forkBin(t, 'append-worker', [dir, String(100 + round), 'forever']);
    await nextMessage(writer, (m: { type: string }) => m.type === 'ready');
    await new Promise((r) => setTimeout(r, 20));
    writer.kill('SIGKILL');
    await exitOf(writer);
    return writer.pid!;
  }
  const holder = spawn(process.execPath, [HOLDER, dir], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.teardown(() => {
    if (holder.exitCode === null && holder.signalCode === null) holder.kill('SIGKILL');
  });
  await new Promise<void>((resolve, reject) => {
    holder.stdout.setEncoding('utf8').on('data', (s: string) => s.includes('held') && resolve());
    holder.once('exit', () => reject(new Error('lock holder exited early')));
  });
  holder.kill('SIGKILL');
  await exitOf(holder);
  return holder.pid!;
}

/** Everything wrong with one round, as readable lines. */
function checkRound(dir: string, round: number, reports: Report[]): string[] {
  const out: string[] = [];
  const taken = new Set<number>();
  let twice = 0;
  for (const r of reports) {
    if (r.type === 'error') out.push(`round ${round}: racer ${r.p} failed: ${r.message!.split('\n')[0]}`);
    for (const [firstId, count] of r.appends) {
      for (let id = firstId; id < firstId + count; id++) {
        if (taken.has(id)) twice++;
        taken.add(id);
      }
    }
  }
  if (twice > 0) out.push(`round ${round}: ${twice} ids handed to two appends that both returned`);
  const log = PartitionLog.open(dir, 0);
  try {
    let differ = 0;
    for (const r of reports) {
      for (const [firstId, count, from] of r.appends) {
        for (let k = 0; k < count; k++) {
          const want = raceEvent(round, r.p, from + k);
          try {
            const ev = log.read(firstId + k);
            if (!Buffer.from(ev.metadata).equals(want.metadata) || !Buffer.from(ev.data()).equals(want.data)) differ++;
          } catch {
            differ++;
          }
        }
      }
    }
    if (differ > 0) out.push(`round ${round}: ${differ} returned events not stored as appended`);
    const issues = log.verify();
    if (issues.length > 0) out.push(`round ${round}: verify(): ${JSON.stringify(issues).slice(0, 300)}`);
  } finally {
    log.close();
  }
  const stored = reports.reduce((n, r) => n + r.appends.reduce((m, a) => m + a[1], 0), 0);
  if (stored !== RACERS * RACE_EVENTS) out.push(`round ${round}: ${stored} events appended, expected ${RACERS * RACE_EVENTS}`);
  return out;
}

test(`${RACERS} processes race for a SIGKILLed writer's lock, ${ROUNDS} rounds: unique ids, every returned append stored byte-identical, verify() clean`, async (t) => {
  const root = tempDir(t, 'ds-writer-race-');
  const racers = Array.from({ length: RACERS }, (_, p) => forkBin(t, 'append-racer', [String(p)]));
  await Promise.all(racers.map((c) => nextMessage(c, (m: { type: string }) => m.type === 'ready')));
  const problems: string[] = [];
  let leftHeld = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const dir = path.join(root, `round-${round}`);
    fs.mkdirSync(dir, { recursive: true }); // a read-only open creates nothing
    PartitionLog.open(dir, 0, { segmentBytes: 8192 }).close();
    const deadPid = await killHolder(t, dir, round);
    const state = new GenerationLock(path.join(dir, WRITER_LOCK_FOLDER)).current();
    const heldByDead = state?.record?.state === 'held' && state.record.pid === deadPid;
    if (heldByDead) leftHeld++;
    else if (round % 2 === 0) problems.push(`round ${round}: the killed holder did not leave its lock held`);
    const at = Date.now() + 50; // all racers start at this instant
    const reports = await Promise.all(
      racers.map((c) => {
        const report = nextMessage<Report>(c, (m) => m.type === 'raced' || m.type === 'error');
        c.send({ type: 'race', dir, at, round });
        return report;
      }),
    );
    problems.push(...checkRound(dir, round, reports));
  }
  for (const c of racers) c.send({ type: 'exit' });
  await Promise.all(racers.map(exitOf));
  t.log(`${leftHeld} of ${ROUNDS} rounds started from a lock held by the killed process`);
  t.deepEqual(problems, []);
});
