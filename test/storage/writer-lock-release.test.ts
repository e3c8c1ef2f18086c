// A writer-lock release that fails (a full disk refusing the link of the prepared "free" record, no descriptor left to
// read the generation file) must not leave the lock held by this live process, nor its prepared record (a `.tmp-`
// file) in the lock folder, until the process exits: the release is retried in the background (another process then
// gets the lock) and by this thread's next take.
import test, { type ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { WriterLock } from '../../storage/writer-lock.js';
import { exitOf } from './helpers.js';
import { tempDir } from '../temp-dir.js';

/** Our temp files in the lock folder (the prepared "free" record of a held lease is one). */
const ourTemps = (lock: WriterLock): string[] => fs.readdirSync(lock.lockPath).filter((f) => f.startsWith(`.tmp-${process.pid}-`));

const errno = (code: string): Error => Object.assign(new Error(`${code}: injected`), { code });

/** The ways a release fails: the calls it makes that a full disk or a descriptor shortage refuses, patched in turn. */
const FAILURES = {
  'ENOSPC on the link of the free record': (lockPath: string): (() => void) => {
    const linkSync = fs.linkSync;
    fs.linkSync = ((from: fs.PathLike, to: fs.PathLike) => {
      if (String(to).startsWith(lockPath + path.sep)) throw errno('ENOSPC');
      linkSync(from, to);
    }) as typeof fs.linkSync;
    return () => (fs.linkSync = linkSync);
  },
  'EMFILE opening the generation file': (lockPath: string): (() => void) => {
    const openSync = fs.openSync;
    fs.openSync = ((file: fs.PathLike, ...rest: unknown[]) => {
      if (/^[0-9]{16}$/.test(path.basename(String(file))) && path.dirname(String(file)) === lockPath) throw errno('EMFILE');
      return (openSync as (...a: unknown[]) => number)(file, ...rest);
    }) as typeof fs.openSync;
    return () => (fs.openSync = openSync);
  },
};

/** Releases `lock` while `failure` is injected; returns the prepared record the release left behind. */
function failedRelease(t: ExecutionContext, lock: WriterLock, failure: keyof typeof FAILURES): string {
  t.true(lock.tryAcquire());
  const [prepared, ...more] = ourTemps(lock);
  t.deepEqual(more, [], 'one prepared "free" record while held');
  const restore = FAILURES[failure](lock.lockPath);
  try {
    lock.release(); // never throws: it may run from the idle timer
  } finally {
    restore();
  }
  t.false(lock.isHeld);
  t.deepEqual(ourTemps(lock), [prepared!], 'the failed release left its prepared record');
  t.is(lock.idleGeneration(), null, 'the lock still reads as held by this process');
  return prepared!;
}

for (const failure of Object.keys(FAILURES) as Array<keyof typeof FAILURES>) {
  test(`a release that failed (${failure}) is retried in the background: another process gets the lock, no temp file is left`, async (t) => {
    const dir = tempDir(t);
    const lock = new WriterLock(dir);
    failedRelease(t, lock, failure);
    // A writer in another process; its acquire() waits (20 s at most) while this process still holds the lock.
    const other = spawn(process.execPath, [
      '--input-type=module', '-e',
      `import { WriterLock } from ${JSON.stringify(path.resolve('dist/storage/writer-lock.js'))};
       const l = new WriterLock(${JSON.stringify(dir)});
       try { l.acquire(20_000); } catch (err) { console.error(err.message); process.exit(3); }
       l.release();`,
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    t.teardown(() => {
      if (other.exitCode === null && other.signalCode === null) other.kill('SIGKILL');
    });
    let stderr = '';
    other.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    t.is((await exitOf(other)).code, 0, `the other process got the lock: ${stderr}`);
    t.deepEqual(ourTemps(lock), [], 'the prepared record went with the release');
    t.true(lock.tryAcquire());
    lock.release();
  });

  test(`a release that failed (${failure}) goes first when this thread takes the lock again: its temp file does not stay`, (t) => {
    const dir = tempDir(t);
    const lock = new WriterLock(dir);
    const prepared = failedRelease(t, lock, failure);
    const again = new WriterLock(dir);
    t.true(again.tryAcquire());
    t.false(ourTemps(again).includes(prepared), 'the failed release\'s prepared record is gone');
    again.release();
    t.deepEqual(ourTemps(again), []);
    t.not(again.idleGeneration(), null, 'free');
  });
}
