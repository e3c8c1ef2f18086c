// `produce` stopped by SIGINT/SIGTERM (Ctrl-C on `tail -f app.log | diaspora-ctl produce ...`): it stops reading,
// commits what it read, prints those ids and exits 0, like `consume -f`.
import { spawn } from 'node:child_process';
import path from 'node:path';
import test from 'ava';
import { CTL, ctl, jsonLines, waitFor } from './cli-helper.js';
import { tempDir } from '../../temp-dir.js';

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`produce reading a pipe that stays open: ${signal} commits what was read, prints its ids, exits 0`, async (t) => {
    const D = ['--driver.root_path', path.join(tempDir(t), 'root')];
    t.is((await ctl(['topic', 'create', ...D, '--name', 'T'])).code, 0);
    const child = spawn(process.execPath, [CTL, 'produce', 'T', ...D], { stdio: ['pipe', 'pipe', 'pipe'] });
    t.teardown(() => void child.kill('SIGKILL'));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, sig) => r({ code, signal: sig })));
    child.stdin.write('{"metadata":"first"}\n{"metadata":"second"}\n');
    await waitFor('the ids of both lines', () => stdout.split('\n').length > 2);
    child.kill(signal); // stdin stays open: only the signal ends the command
    const end = await exited;
    t.deepEqual(end, { code: 0, signal: null }, stderr);
    t.deepEqual(jsonLines(stdout), [{ line: 1, partition: 0, id: 0 }, { line: 2, partition: 0, id: 1 }]);
    t.regex(stderr, /^produced 2 event\(s\) into 'T' \(interrupted by SIG(INT|TERM): the rest of the input was not read\)\n$/);
    const events = jsonLines<{ metadata: unknown }>((await ctl(['consume', 'T', ...D, '--no-data'])).stdout);
    t.deepEqual(events.map((e) => e.metadata), ['first', 'second']);
  });
}
