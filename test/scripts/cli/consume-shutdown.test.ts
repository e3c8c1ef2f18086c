// `consume` stopped by SIGTERM while its reader does not read: it must still exit (0) soon, and every event it
// acknowledged must be among the lines it handed to stdout. It used to wait for the stalled write forever, so the
// first SIGTERM did nothing.
import test from 'ava';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { tempDir } from '../../temp-dir.js';
import { CTL, ctl } from './cli-helper.js';

test('consume -f with a reader that stopped reading: SIGTERM exits 0 within seconds; acknowledged events were printed', async (t) => {
  const root = path.join(tempDir(t), 'root');
  const D = ['--driver.root_path', root];
  t.is((await ctl(['topic', 'create', ...D, '--name', 'T'])).code, 0);
  // ~6 MB of lines: far more than a pipe and the reader's stream buffer hold.
  const pad = 'x'.repeat(200);
  const input = Array.from({ length: 20_000 }, (_, n) => JSON.stringify({ metadata: { n, pad } })).join('\n') + '\n';
  const produced = await ctl(['produce', 'T', ...D, '-q'], input);
  t.is(produced.code, 0, produced.stderr);

  const child = spawn(process.execPath, [CTL, 'consume', 'T', '--name', 'slow', ...D, '-f'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => void child.kill('SIGKILL'));
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // Take the first bytes (the consumer is running), then stop reading.
  const out: Buffer[] = [];
  let reading = true;
  await new Promise<void>((resolve) => child.stdout!.on('data', (b: Buffer) => {
    out.push(b);
    if (reading) {
      reading = false;
      child.stdout!.pause();
      resolve();
    }
  }));
  await new Promise((r) => setTimeout(r, 1500)); // its writes are stalled by now
  const signalled = Date.now();
  child.kill('SIGTERM');
  const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 15_000))]);
  t.not(code, 'hung', 'still running 15 s after SIGTERM');
  t.is(code, 0, stderr);
  t.true(Date.now() - signalled < 10_000);
  // Everything it did hand to stdout is still in the pipe and our stream: read it all.
  child.stdout!.resume();
  await new Promise((r) => child.stdout!.once('close', r));
  // Complete lines only: the write given up on may have gone out in part.
  const text = Buffer.concat(out).toString('utf8');
  const lines = text.slice(0, text.lastIndexOf('\n') + 1).split('\n').slice(0, -1);
  const printed = lines.map((l) => (JSON.parse(l) as { id: number }).id);
  t.true(printed.length > 0 && printed.length < 20_000, `${printed.length} lines printed`);
  t.deepEqual(printed, printed.map((_, i) => i), 'the printed lines are events 0.. in order');
  const positions = JSON.parse((await ctl(['consumers', 'T', ...D, '--json'])).stdout.trim().split('\n')[0]) as {
    partitions: Array<{ lastAcknowledged: number | null }>;
  };
  const acked = positions.partitions[0]?.lastAcknowledged ?? -1;
  t.true(acked <= printed.length - 1, `acknowledged up to ${acked} but printed only ${printed.length} events`);
});
