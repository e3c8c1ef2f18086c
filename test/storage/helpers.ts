// Shared helpers of the storage tests: child processes and payloads (temp folders: test/temp-dir.ts).
import path from 'node:path';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ExecutionContext } from 'ava';
import { PartitionLog } from '../../storage/partition-log.js';
import { verifyPartition } from '../../storage/partition-verify.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Forks a compiled helper from fixtures-bin/ with an IPC channel. */
export function forkBin(t: ExecutionContext, name: string, args: string[]): ChildProcess {
  const child = fork(path.join(here, 'fixtures-bin', `${name}.js`), args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return child;
}

export function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/**
 * Next IPC message from `child` satisfying `pred`. Gives up when the IPC channel closes ('disconnect', which comes
 * after every message sent was delivered; 'exit' can come before the last messages under load).
 */
export function nextMessage<T>(child: ChildProcess, pred: (m: T) => boolean = () => true): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: unknown): void => {
      if (pred(m as T)) {
        child.off('message', onMessage);
        child.off('disconnect', onGone);
        resolve(m as T);
      }
    };
    const onGone = (): void => {
      child.off('message', onMessage);
      reject(new Error(`child ${child.pid} closed its IPC channel (exit ${child.exitCode ?? child.signalCode}) before sending the expected message`));
    };
    if (!child.connected) return onGone();
    child.on('message', onMessage);
    child.once('disconnect', onGone);
  });
}

// One block of pseudo-random bytes; event payloads are windows of it at offsets derived from (producer, index).
const BLOCK = (() => {
  const b = Buffer.allocUnsafe(1 << 20);
  let x = 12345;
  for (let k = 0; k < b.length; k++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    b[k] = x >>> 24;
  }
  return b;
})();

/** Deterministic bytes for event `i` of producer `p` (cheap: a view, no copy): lets a test check every byte. */
export function payload(p: number, i: number, size: number): Buffer {
  if (size > BLOCK.length) throw new RangeError('payload too large for the test block');
  const at = (p * 7919 + i * 104_729) % (BLOCK.length - size + 1);
  return BLOCK.subarray(at, at + size);
}

export function metaOf(p: number, i: number): Buffer {
  return Buffer.from(JSON.stringify({ p, i }));
}

/** Events each racer of the writer lock race test appends (fixtures-bin/append-racer.ts). */
export const RACE_EVENTS = 20;

/** Metadata and data of event `i` of racer `p` in round `round`: the race test rebuilds them to compare every byte. */
export function raceEvent(round: number, p: number, i: number): { metadata: Buffer; data: Buffer } {
  return {
    metadata: Buffer.from(JSON.stringify({ round, p, i })),
    data: payload(round * 8 + p, i, (i * 37 + p * 11 + round) % 700),
  };
}

/** Two handles on partition 0 of `dir` (one appends, one reads), both closed when the test ends. */
export function writerAndReader(t: ExecutionContext, dir: string): { writer: PartitionLog; reader: PartitionLog } {
  const writer = PartitionLog.open(dir, 0);
  const reader = PartitionLog.open(dir, 0);
  t.teardown(() => {
    writer.close();
    reader.close();
  });
  return { writer, reader };
}

/**
 * Runs verifyPartition(dir) again and again until `done` settles (another process changes the partition meanwhile):
 * the number of passes, and each problem reported or error thrown ("thrown: <message>") with how often.
 */
export async function verifyWhile(dir: string, done: Promise<unknown>): Promise<{ passes: number; seen: Array<[string, number]> }> {
  let finished = false;
  void done.then(() => (finished = true), () => (finished = true));
  const seen = new Map<string, number>();
  let passes = 0;
  while (!finished) {
    let found: string[];
    try {
      found = verifyPartition(dir).map((p) => p.message);
    } catch (err) {
      found = [`thrown: ${(err as Error).message}`];
    }
    for (const m of found) seen.set(m, (seen.get(m) ?? 0) + 1);
    passes++;
    await new Promise((r) => setImmediate(r));
  }
  return { passes, seen: [...seen] };
}
