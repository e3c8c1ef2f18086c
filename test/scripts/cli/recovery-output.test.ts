// Recovery reports reach CLI users: verify and topic describe print what crash recovery cut (verify still exits 0
// for a torn tail, which is not damage, and EXIT_DAMAGED for damaged committed data); the forward and fifo daemons
// log one line per report.
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { Driver } from '../../../lib/index.js';
import { EXIT_DAMAGED } from '../../../scripts/cli/errors.js';
import { lastIndexFile, makeTopic, tearTail } from '../../lib/faults/torn-tail.js';
import { ctl, Daemon, jsonLines, waitFor } from './cli-helper.js';
import { tempDir } from '../../temp-dir.js';
import { writeForwardConfig } from './forward-config.js';

const REPORT = /topic torn partition 1: recovery (cut|found \(left in place\)) 1 uncommitted entry \(ids 4\.\.4\)/;

test('verify prints the recovery of a torn tail and exits 0; with damaged committed data too it exits EXIT_DAMAGED', async (t) => {
  const root = path.join(tempDir(t), 'root');
  const D = ['--driver', 'files', '--driver.root_path', root];
  await makeTopic(root, 'torn', 4, { partitions: 2 });
  tearTail(root, 'torn', 1);
  const run = await ctl(['verify', 'torn', ...D]);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, REPORT);
  t.regex(run.stderr, /no problems/);

  tearTail(root, 'torn', 1, 9);
  const json = await ctl(['verify', 'torn', ...D, '--json']);
  t.is(json.code, 0, json.stderr);
  const lines = jsonLines<{ topic: string; partition: number; recovery?: { droppedEntries: number; notes: string[] } }>(json.stdout);
  t.is(lines.length, 1);
  t.like(lines[0], { topic: 'torn', partition: 1, recovery: { droppedEntries: 1 } });

  // Damage inside committed data of partition 0 (a flipped metadata byte) next to a new torn tail in partition 1.
  const meta = lastIndexFile(root, 'torn', 0).replace(/\.index$/, '.meta');
  const bytes = fs.readFileSync(meta);
  bytes[2] ^= 0xff;
  fs.writeFileSync(meta, bytes);
  tearTail(root, 'torn', 1);
  const bad = await ctl(['verify', 'torn', ...D]);
  t.is(bad.code, EXIT_DAMAGED, bad.stderr);
  t.regex(bad.stdout, REPORT);
  t.regex(bad.stdout, /torn partition 0: .*\.meta/);
});

test('topic describe prints what recovery cut (text and --json)', async (t) => {
  const root = path.join(tempDir(t), 'root');
  const D = ['--driver', 'files', '--driver.root_path', root];
  await makeTopic(root, 'torn', 4, { partitions: 2 });
  tearTail(root, 'torn', 1);
  const text = await ctl(['topic', 'describe', 'torn', ...D]);
  t.is(text.code, 0, text.stderr);
  t.regex(text.stdout, REPORT);
  tearTail(root, 'torn', 1);
  const json = await ctl(['topic', 'describe', 'torn', ...D, '--json']);
  t.is(json.code, 0, json.stderr);
  const [described] = jsonLines<{ recovery: Array<{ partition: number; endId: number; droppedEntries: number }> }>(json.stdout);
  t.is(described!.recovery.length, 1);
  t.like(described!.recovery[0], { partition: 1, endId: 4, droppedEntries: 1 });
  // describe is read-only: the tail is left in place (and reported again) until a writer cuts it.
  const index = lastIndexFile(root, 'torn', 1);
  const size = fs.statSync(index).size;
  t.regex((await ctl(['topic', 'describe', 'torn', ...D])).stdout, REPORT);
  t.is(fs.statSync(index).size, size, 'describe changed nothing');
  const d = await Driver.create('files', { root_path: root });
  const topic = await d.openTopic('torn');
  await topic.producer().push({ after: true }, undefined, 1).wait();
  await d.close();
  const clean = await ctl(['topic', 'describe', 'torn', ...D]);
  t.notRegex(clean.stdout, /recovery/, 'nothing left to report once cut');
});

test('forward logs one line per recovery report of its source and destination topics', async (t) => {
  const dir = tempDir(t);
  const root = path.join(dir, 'root');
  await makeTopic(root, 'torn', 4, { partitions: 2 });
  await makeTopic(root, 'dest', 2);
  tearTail(root, 'torn', 1);
  tearTail(root, 'dest', 0);
  const config = path.join(dir, 'forward.yaml');
  writeForwardConfig(config, { local: { type: 'files', options: { root_path: root } } }, [['local/torn', 'local/dest']]);
  const daemon = new Daemon(['forward', '--config', config, '--logging', 'warn']);
  t.teardown(() => void daemon.stop('SIGKILL'));
  // The destination's tail is cut by the first append of a forwarded event.
  await waitFor('both reports logged', () => REPORT.test(daemon.stderr) && /topic dest partition 0: recovery cut 1 uncommitted entry \(ids 2\.\.2\)/.test(daemon.stderr));
  t.regex(daemon.stderr, /\[warn\] topic torn partition 1: recovery/);
  const end = await daemon.stop('SIGTERM');
  t.is(end.code, 0, daemon.stderr);
  const lines = daemon.stderr.split('\n').filter((l) => l.includes('recovery'));
  // The source's tail is found and left in place (forward only reads it); the destination's is found, then cut.
  t.is(lines.length, 3, daemon.stderr);
});

test('the fifo bridge logs the recovery of a topic it produces to', async (t) => {
  const dir = tempDir(t);
  const root = path.join(dir, 'root');
  await makeTopic(root, 'torn', 3);
  tearTail(root, 'torn', 0);
  const control = path.join(dir, 'ctl', 'control');
  const bridge = new Daemon(['fifo', '--driver', 'files', '--driver.root_path', root, '--control-file', control, '--logging', 'info']);
  t.teardown(() => void bridge.stop('SIGKILL'));
  await waitFor('the control FIFO', () => bridge.stderr.includes('listening'));
  const P = path.join(dir, 'p');
  fs.appendFileSync(control, `${P} -> torn\n`);
  await waitFor('the producer FIFO', () => fs.existsSync(P) && fs.statSync(P).isFIFO());
  fs.writeFileSync(P, 'after the crash\n');
  await waitFor('the recovery line', () => /\[warn\] topic torn partition 0: recovery cut 1 uncommitted entry \(ids 3\.\.3\)/.test(bridge.stderr));
  const end = await bridge.stop('SIGTERM');
  t.is(end.code, 0, bridge.stderr);
  const dump = await ctl(['dump', 'torn', '--driver.root_path', root, '--json', '--no-data']);
  t.deepEqual(jsonLines<{ id: number }>(dump.stdout).map((e) => e.id), [0, 1, 2, 3], 'dense ids after the cut');
});
