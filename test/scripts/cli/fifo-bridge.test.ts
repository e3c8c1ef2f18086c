// The FIFO bridge daemon: producer and consumer FIFO sessions, run through the built CLI.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { parseControlLine } from '../../../scripts/cli/fifo-bridge.js';
import { ctl, Daemon, jsonLines, waitFor } from './cli-helper.js';
import { tempDir } from '../../temp-dir.js';

const isFifo = (p: string) => fs.existsSync(p) && fs.statSync(p).isFIFO();

async function startBridge(t: Parameters<typeof tempDir>[0], topics: string[]) {
  const dir = tempDir(t);
  const root = path.join(dir, 'root');
  for (const name of topics) await ctl(['topic', 'create', '--driver', 'files', '--driver.root_path', root, '--name', name]);
  const control = path.join(dir, 'ctl', 'control');
  const bridge = new Daemon(['fifo', '--driver', 'files', '--driver.root_path', root, '--control-file', control, '--logging', 'info']);
  t.teardown(() => void bridge.stop('SIGKILL'));
  await waitFor('the control FIFO', () => isFifo(control) && bridge.stderr.includes('listening'));
  const D = ['--driver.root_path', root];
  const metadataOf = async (topic: string) => jsonLines<{ metadata: unknown }>((await ctl(['dump', topic, ...D, '--json', '--no-data'])).stdout).map((e) => e.metadata);
  return { dir, root, control, bridge, D, metadataOf, send: (line: string) => fs.appendFileSync(control, line + '\n') };
}

test('control lines are parsed like the reference: arrows with spaces, options, invalid lines', (t) => {
  const warnings: string[] = [];
  const warn = (m: string) => void warnings.push(m);
  t.deepEqual(parseControlLine(' /a/p  ->  topic-1 ', warn), { kind: 'producer', path: '/a/p', topic: 'topic-1', options: {} });
  t.deepEqual(parseControlLine('c <- t (format=json, batch_size=1, bogus)', warn), { kind: 'consumer', path: 'c', topic: 't', options: { format: 'json', batch_size: '1' } });
  t.deepEqual(warnings.length, 1);
  t.is(typeof parseControlLine('p->t', warn), 'string');
  t.is(typeof parseControlLine('p -> t (format=json', warn), 'string');
  t.is(typeof parseControlLine(' -> t', warn), 'string');
  t.is(typeof parseControlLine('p -> ', warn), 'string');
});

test('producer FIFO: lines become events at once, raw lines are JSON-escaped, later writers are served, SIGTERM exits 0', async (t) => {
  const { dir, control, bridge, metadataOf, send } = await startBridge(t, ['raw-topic', 'json-topic']);
  const P = path.join(dir, 'fifos', 'p');
  send('this line is not a command');
  send(`${P} -> raw-topic (batch_size=256)`);
  await waitFor('the producer FIFO', () => isFifo(P));
  fs.writeFileSync(P, 'test message 1\n');
  fs.writeFileSync(P, 'with "quotes" and \\ backslash\n\nlast\n');
  await waitFor('events from two write sessions', async () => (await metadataOf('raw-topic')).length === 3);
  t.deepEqual(await metadataOf('raw-topic'), ['test message 1', 'with "quotes" and \\ backslash', 'last']);
  // One writer that stays open: every line is committed while it is still open (the reference waited for close).
  const fd = fs.openSync(P, 'w');
  for (let i = 1; i <= 3; i++) {
    fs.writeSync(fd, `open_message_${i}\n`);
    await waitFor(`open_message_${i} while the writer is open`, async () => (await metadataOf('raw-topic')).includes(`open_message_${i}`));
  }
  fs.closeSync(fd);
  const J = path.join(dir, 'fifos', 'j');
  send(`${J} -> json-topic (format=json)`);
  await waitFor('the json FIFO', () => isFifo(J));
  fs.writeFileSync(J, '{"a":1}\nnot json\n[1,2]\n');
  await waitFor('json events', async () => (await metadataOf('json-topic')).length === 2);
  t.deepEqual(await metadataOf('json-topic'), [{ a: 1 }, [1, 2]]);
  t.regex(bridge.stderr, /invalid command "this line is not a command"/);
  t.regex(bridge.stderr, /event "not json" rejected/);
  const end = await bridge.stop('SIGTERM');
  t.is(end.code, 0, bridge.stderr);
  t.false(fs.existsSync(control));
  t.true(isFifo(P), 'producer FIFOs are kept');
});

test('consumer FIFO: events are written as lines and acknowledged; a new reader resumes after what was written', async (t) => {
  const { dir, bridge, D, send } = await startBridge(t, ['events']);
  const P = path.join(dir, 'p');
  const C = path.join(dir, 'c');
  send(`${P} -> events`);
  await waitFor('the producer FIFO', () => isFifo(P));
  for (const m of ['test message 1', 'test message 2', 'test message 3']) fs.writeFileSync(P, m + '\n');
  fs.writeFileSync(P, '{"json": "object"}\n');
  // The bridge creates the consumer FIFO if needed, and waits for a reader.
  send(`${C} <- events`);
  await waitFor('the consumer FIFO', () => isFifo(C));
  const reader = spawn('cat', [C]);
  let got = '';
  reader.stdout.on('data', (b: Buffer) => (got += b.toString()));
  await waitFor('4 lines', () => got.split('\n').length > 4);
  t.deepEqual(got.split('\n').slice(0, 4), ['test message 1', 'test message 2', 'test message 3', '{"json": "object"}'], 'raw lines come back verbatim');
  fs.writeFileSync(P, 'live message\n');
  await waitFor('the live line', () => got.includes('live message\n'));
  reader.kill();
  await new Promise((r) => reader.once('exit', r));
  await waitFor('acknowledgements', async () => {
    const c = jsonLines<{ name: string; partitions: Array<{ lastAcknowledged: number }> }>((await ctl(['consumers', 'events', ...D, '--json'])).stdout);
    return c.some((x) => x.name === C && x.partitions[0].lastAcknowledged === 4);
  });
  fs.writeFileSync(P, 'after the reader left\n');
  const second = spawn('cat', [C]);
  let got2 = '';
  second.stdout.on('data', (b: Buffer) => (got2 += b.toString()));
  await waitFor('the next reader to get the new event', () => got2.includes('after the reader left\n'));
  t.is(got2, 'after the reader left\n', 'nothing already written to the first reader is repeated');
  const end = await bridge.stop('SIGTERM');
  t.is(end.code, 0, bridge.stderr);
  second.kill();
});

test('--control-file naming a regular file is refused and the file kept; a path under a file is a clear error', async (t) => {
  const dir = tempDir(t);
  const root = path.join(dir, 'root');
  const notes = path.join(dir, 'notes.txt');
  fs.writeFileSync(notes, 'keep me\n');
  for (const control of [notes, path.join(notes, 'control')]) {
    const bridge = new Daemon(['fifo', '--driver.root_path', root, '--control-file', control]);
    t.teardown(() => void bridge.stop('SIGKILL'));
    // Bounded: the bridge either refuses (exits) or says it listens (the bug: it had replaced the file by a FIFO).
    await waitFor('the bridge to refuse or listen', () => bridge.child.exitCode !== null || bridge.stderr.includes('listening'));
    const end = await bridge.stop('SIGTERM');
    t.is(end.code, 1, bridge.stderr);
    t.regex(bridge.stderr, /^diaspora-ctl: error: control FIFO ".*": .* \[BAD_ARGUMENT\]\n$/);
    t.true(bridge.stderr.includes(control));
    t.is(fs.readFileSync(notes, 'utf8'), 'keep me\n', 'the file is neither removed nor replaced');
  }
});
