// The generation lock on its own: states, takeover of dead, unreadable and orphaned records, and the stale
// contender cases the race tests can only hit by chance (made deterministic with look() / takeFrom()).
import test from 'ava';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GenerationLock, genName, type LockRecord } from '../../storage/generation-lock.js';
import { currentProcessIdentity } from '../../storage/process-liveness.js';
import { tempDir } from '../temp-dir.js';

/** The pid of a process that has exited (and was reaped). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '0']);
  return r.pid!;
}

function entries(dir: string): string[] {
  return fs.readdirSync(dir).sort();
}

/** Writes a record as a generation file directly, as another (maybe dead, maybe remote) process would have. */
function plant(dir: string, gen: number, r: Partial<LockRecord> | string): void {
  fs.mkdirSync(dir, { recursive: true });
  const text = typeof r === 'string' ? r : JSON.stringify({ state: 'held', owner: 'elsewhere', token: `t${gen}`, at: 0, start: null, ...r });
  fs.writeFileSync(path.join(dir, genName(gen)), text);
}

test('a fresh folder is created and taken; release publishes "free"; only the current generation stays', (t) => {
  const dir = path.join(tempDir(t), 'lock');
  const a = new GenerationLock(dir);
  t.is(a.current(), null);
  const r = a.tryTake();
  if (!r.taken) return t.fail('not taken');
  t.is(r.lease.gen, 2); // generation 1 is the initial "free" record
  t.is(a.current()!.record!.state, 'held');
  t.is(a.current()!.record!.pid, process.pid);
  t.true(a.holds(r.lease));
  // A live holder (here: this very process, as any other object would see it) is never taken over.
  const b = new GenerationLock(dir);
  const busy = b.tryTake();
  t.false(busy.taken);
  if (!busy.taken) t.is(busy.holder!.token, a.current()!.record!.token);
  // Entries: our generation and the "free" record prepared for the release (a temp file).
  t.is(entries(dir).filter((e) => !e.startsWith('.tmp-')).length, 1);
  t.true(a.release(r.lease));
  t.false(a.holds(r.lease));
  t.false(a.release(r.lease), 'a second release finds the lease gone and touches nothing');
  t.deepEqual(entries(dir), [genName(3)]);
  t.is(a.current()!.record!.state, 'free');
  const again = b.tryTake();
  t.true(again.taken);
  if (again.taken) t.is(again.lease.gen, 4);
  t.deepEqual(entries(dir).filter((e) => !e.startsWith('.tmp-')), [genName(4)], 'lower generations cleaned up');
});

test('a dead holder\'s generation is taken over, so is a non-JSON one (a crash leftover), not one of unknown shape; temp files of dead processes are removed', (t) => {
  const dir = path.join(tempDir(t), 'lock');
  const dead = deadPid();
  plant(dir, 7, { pid: dead });
  fs.writeFileSync(path.join(dir, `.tmp-${dead}-x-1`), 'half');
  fs.writeFileSync(path.join(dir, `.tmp-${process.pid}-x-1`), 'ours: a live process');
  const lock = new GenerationLock(dir);
  const r = lock.tryTake();
  if (!r.taken) return t.fail('dead holder not taken over');
  t.is(r.lease.gen, 8);
  t.false(entries(dir).includes(`.tmp-${dead}-x-1`));
  t.true(entries(dir).includes(`.tmp-${process.pid}-x-1`));
  t.false(entries(dir).includes(genName(7)));
  t.true(lock.release(r.lease));

  plant(dir, 10, ''); // an empty record: what a crash of the whole machine may leave
  const g = lock.tryTake();
  t.true(g.taken);
  if (g.taken) t.is(g.lease.gen, 11);
  // A JSON record this version does not understand (a newer version's) counts as held, even naming a dead pid.
  plant(dir, 12, { state: 'held-v9' as never, pid: dead });
  const u = lock.tryTake();
  t.false(u.taken);
  if (!u.taken) t.is(u.holder!.state, 'unknown');
});

test('a holder that cannot be judged from here (other host, other pid namespace) is never taken over', (t) => {
  const dir = path.join(tempDir(t), 'lock');
  const dead = deadPid(); // dead here, but the pid means nothing for another machine or namespace
  plant(dir, 3, { pid: dead, host: `not-${os.hostname()}` });
  const lock = new GenerationLock(dir);
  t.false(lock.tryTake().taken);
  const me = currentProcessIdentity();
  plant(dir, 4, { pid: dead, host: me.host, boot: me.boot, pidns: 'pid:[1]' });
  t.false(lock.tryTake().taken);
  // Same host, another boot: the machine rebooted since, the holder is gone.
  plant(dir, 5, { pid: process.pid, host: me.host, boot: 'an-earlier-boot', pidns: me.pidns });
  t.true(lock.tryTake().taken);
});

test('a slow contender whose generation was taken and cleaned up meanwhile removes its stale file and does not win', (t) => {
  const dir = path.join(tempDir(t), 'lock');
  const slow = new GenerationLock(dir);
  const fast = new GenerationLock(dir);
  const seen = slow.look()!; // "free" at generation 1
  t.is(seen.record!.state, 'free');
  // While the slow one sleeps, another takes generation 2, releases (3) and cleans 1 and 2 up; a third holds 4.
  const r = fast.tryTake();
  if (!r.taken) return t.fail();
  t.true(fast.release(r.lease));
  const third = fast.tryTake();
  if (!third.taken) return t.fail();
  t.deepEqual(entries(dir).filter((e) => !e.startsWith('.tmp-')), [genName(4)]);
  // Generation 2 does not exist any more, so the slow contender's link succeeds: the check after it must catch it.
  t.is(slow.takeFrom(seen), null);
  t.deepEqual(entries(dir).filter((e) => !e.startsWith('.tmp-')), [genName(4)], 'its stale generation is gone');
  t.true(fast.holds(third.lease));
  // And one that merely lost the race (the generation exists) does not win either.
  t.is(slow.takeFrom({ ...seen, gen: 3 }), null);
  t.true(fast.holds(third.lease));
});

test('a slow contender does not win in a re-created folder, even at a generation number that is free there', (t) => {
  const dir = path.join(tempDir(t), 'lock');
  const slow = new GenerationLock(dir);
  const other = new GenerationLock(dir);
  for (let i = 0; i < 3; i++) {
    const r = other.tryTake();
    if (!r.taken) return t.fail();
    other.release(r.lease);
  }
  const seen = slow.look()!; // "free" at generation 7
  t.is(seen.gen, 7);
  fs.rmSync(dir, { recursive: true }); // e.g. the consumer was removed and is being re-created
  const fresh = other.tryTake(); // generation 2 of the new folder
  if (!fresh.taken) return t.fail();
  t.is(slow.takeFrom(seen), null, 'generation 8 is free in the new folder, but 7 is not the record it read');
  t.true(other.holds(fresh.lease));
  t.deepEqual(entries(dir).filter((e) => !e.startsWith('.tmp-')), [genName(2)]);
});

test('a lease whose folder was wiped and re-taken is not released over the new holder', (t) => {
  const dir = path.join(tempDir(t), 'lock');
  const a = new GenerationLock(dir);
  const first = a.tryTake();
  if (!first.taken) return t.fail();
  fs.rmSync(dir, { recursive: true });
  const b = new GenerationLock(dir);
  const second = b.tryTake();
  if (!second.taken) return t.fail();
  t.is(second.lease.gen, first.lease.gen, 'the same generation number, a different record');
  t.false(a.holds(first.lease));
  t.false(a.release(first.lease));
  t.true(b.holds(second.lease));
  t.is(b.current()!.record!.state, 'held');
});
