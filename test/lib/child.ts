// Helpers to run compiled child scripts (test/lib/fixtures-bin) as real processes and read their output lines.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

export interface Child {
  proc: ChildProcess;
  lines: string[];
  /** Resolves with the first line matching `re` (rejects if the process exits first or after timeoutMs). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
}

/** Children still running when this test process exits are killed: a failed test must not leave one working for hours. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const proc of running) proc.kill('SIGKILL');
});

/** `env`: variables added to this process's environment for the child (a fault hook, e.g.). */
export function startChild(script: string, args: string[], env: NodeJS.ProcessEnv = {}): Child {
  const proc = spawn(process.execPath, [path.join(here, 'fixtures-bin', script), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  running.add(proc);
  proc.once('exit', () => running.delete(proc));
  const lines: string[] = [];
  let err = '';
  let partial = '';
  const watchers: Array<() => void> = [];
  proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    partial += chunk;
    const parts = partial.split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
    for (const w of watchers) w();
  });
  proc.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  // 'close', not 'exit': 'exit' can come before the last output was read, which would be lost to waitFor and `lines`.
  let closed = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.on('close', (code, signal) => {
      closed = true;
      if (partial !== '') lines.push(partial);
      partial = '';
      for (const w of watchers) w();
      resolve({ code, signal });
    });
  });
  const waitFor = (re: RegExp, timeoutMs = 60_000): Promise<string> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const hit = lines.find((l) => re.test(l));
        if (hit !== undefined) {
          done();
          resolve(hit);
        } else if (closed) {
          done();
          reject(new Error(`${script} exited (${proc.exitCode ?? proc.signalCode}) before printing ${re}: ${err}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${script}: no ${re} within ${timeoutMs} ms; stderr: ${err}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        const i = watchers.indexOf(check);
        if (i >= 0) watchers.splice(i, 1);
      };
      watchers.push(check);
      check();
    });
  return { proc, lines, waitFor, exited, stderr: () => err };
}
