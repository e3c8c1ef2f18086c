// produce | consume round trips, --follow, filters, dump and verify, run through the built CLI.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { bytes, CTL, ctl, Daemon, jsonLines, waitFor } from './cli-helper.js';
import { tempDir } from '../../temp-dir.js';

interface Line {
  partition: number;
  id: number;
  timestamp: number;
  metadata: unknown;
  data?: string;
}

const METADATA = [{ a: 1 }, 'a "quoted" \\ string', 42, [1, 'two', null], { nested: { deep: [true, false] }, u: 'héllo ✓' }, null, 2.5];

function inputLines(n: number): string[] {
  return Array.from({ length: n }, (_, i) =>
    JSON.stringify({ metadata: METADATA[i % METADATA.length], data: bytes(i, (i * 131) % 700).toString('base64') }),
  );
}

async function setup(t: Parameters<typeof tempDir>[0], partitions: number): Promise<string[]> {
  const root = path.join(tempDir(t), 'root');
  const r = await ctl(['topic', 'create', '--driver', 'files', '--driver.root_path', root, '--name', 'T', '--topic.num_partitions', String(partitions)]);
  if (r.code !== 0) throw new Error(r.stderr);
  return ['--driver.root_path', root];
}

test('produce | consume round trip is byte for byte, in per-partition order, and ids are reported', async (t) => {
  const D = await setup(t, 3);
  const input = inputLines(60);
  const produced = await ctl(['produce', 'T', ...D], input.join('\n') + '\n');
  t.is(produced.code, 0, produced.stderr);
  const ids = jsonLines<{ line: number; partition: number; id: number }>(produced.stdout);
  t.deepEqual(ids.map((r) => r.line), Array.from({ length: 60 }, (_, i) => i + 1));
  const consumed = await ctl(['consume', 'T', '--name', 'rt', ...D]);
  t.is(consumed.code, 0, consumed.stderr);
  const events = jsonLines<Line>(consumed.stdout);
  t.is(events.length, 60);
  for (const r of ids) {
    const e = events.find((x) => x.partition === r.partition && x.id === r.id)!;
    const src = JSON.parse(input[r.line - 1]) as { metadata: unknown; data: string };
    t.deepEqual(e.metadata, src.metadata);
    t.true(Buffer.from(e.data!, 'base64').equals(Buffer.from(src.data, 'base64')));
  }
  for (let p = 0; p < 3; p++) {
    const inPartition = events.filter((e) => e.partition === p).map((e) => e.id);
    t.deepEqual(inPartition, [...inPartition].sort((a, b) => a - b));
  }
  // Acknowledged: the same consumer name gets nothing more; consume's output can be produced again.
  t.is((await ctl(['consume', 'T', '--name', 'rt', ...D])).stdout, '');
  await ctl(['topic', 'create', '--driver', 'files', ...D, '--name', 'copy', '--topic.num_partitions', '3']);
  t.is((await ctl(['produce', 'copy', ...D, '-q'], consumed.stdout)).code, 0);
  const copy = jsonLines<Line>((await ctl(['consume', 'copy', '--name', 'x', ...D])).stdout);
  const key = (e: Line) => `${e.partition}/${e.id}/${JSON.stringify(e.metadata)}/${e.data}`;
  t.deepEqual(copy.map(key).sort(), events.map(key).sort(), 'the "partition" field of each line is honoured');
});

test('produce --metadata-only, --partition, --input; bad input stops with the line number and keeps earlier events', async (t) => {
  const D = await setup(t, 2);
  const file = path.join(tempDir(t), 'in.jsonl');
  fs.writeFileSync(file, '{"k":1}\n\n"text"\n[1,2]\n');
  const r = await ctl(['produce', 'T', ...D, '--metadata-only', '--partition', '1', '--input', file]);
  t.is(r.code, 0, r.stderr);
  t.deepEqual(jsonLines<{ partition: number; id: number }>(r.stdout).map((x) => [x.partition, x.id]), [[1, 0], [1, 1], [1, 2]]);
  t.is((await ctl(['produce', 'T', ...D, '--partition', '2'], '{"metadata":1}\n')).code, 1);
  const bad = await ctl(['produce', 'T', ...D], '{"metadata":1}\n{"metadata":2,"data":"***"}\n{"metadata":3}\n');
  t.is(bad.code, 1);
  t.regex(bad.stderr, /^diaspora-ctl: error: stdin:2: "data" must be a base64 string/);
  const notJson = await ctl(['produce', 'T', ...D], '{"metadata":1}\n{oops\n');
  t.regex(notJson.stderr, /stdin:2: .*\[BAD_JSON\]/);
  const all = jsonLines<Line>((await ctl(['consume', 'T', '--name', 'c', ...D, '--no-data'])).stdout);
  t.deepEqual(all.filter((e) => e.partition === 1).map((e) => e.metadata), [{ k: 1 }, 'text', [1, 2]]);
  t.is(all.filter((e) => e.metadata === 1).length, 2, 'the events before each bad line were committed');
  t.false(all.some((e) => 'data' in e));
});

test('consume --from, --max, --filter, --partition', async (t) => {
  const D = await setup(t, 1);
  const input = Array.from({ length: 20 }, (_, i) => JSON.stringify({ kind: i % 2 === 0 ? 'even' : 'odd', i }));
  await ctl(['produce', 'T', ...D, '--metadata-only', '-q'], input.join('\n'));
  const md = (out: string) => jsonLines<Line>(out).map((e) => (e.metadata as { i: number }).i);
  t.deepEqual(md((await ctl(['consume', 'T', '--name', 'a', ...D, '--max', '3'])).stdout), [0, 1, 2]);
  t.deepEqual(md((await ctl(['consume', 'T', '--name', 'a', ...D, '--max', '2'])).stdout), [3, 4], 'resumes after the acknowledged ones');
  t.deepEqual(md((await ctl(['consume', 'T', '--name', 'b', ...D, '--from', '17'])).stdout), [17, 18, 19]);
  t.deepEqual(md((await ctl(['consume', 'T', '--name', 'b', ...D, '--from', 'earliest', '--max', '1'])).stdout), [0]);
  t.deepEqual(md((await ctl(['consume', 'T', '--name', 'c', ...D, '--from', 'latest'])).stdout), []);
  t.deepEqual(md((await ctl(['consume', 'T', '--name', 'c', ...D, '--from', '2000-01-01T00:00:00Z', '--max', '1'])).stdout), [0]);
  const filtered = await ctl(['consume', 'T', '--name', 'f', ...D, '--filter', '{"kind":["odd"],"i":[{"numeric":[">",10]}]}']);
  t.is(filtered.code, 0, filtered.stderr);
  t.deepEqual(md(filtered.stdout), [11, 13, 15, 17, 19]);
  t.is((await ctl(['consume', 'T', '--name', 'f', ...D])).stdout, '', 'filtered-out events were acknowledged too');
  t.is((await ctl(['consume', 'T', '--name', 'g', ...D, '--filter', '{not json'])).code, 1);
  t.is((await ctl(['consume', 'T', '--name', 'g', ...D, '--partition', '1'])).code, 1);
  t.is((await ctl(['consume', 'T', '--name', 'g', ...D, '--follow', '--until', 'end'])).code, 1);
});

test('consume --follow prints live events, then SIGTERM exits 0 with its position saved', async (t) => {
  const D = await setup(t, 2);
  await ctl(['produce', 'T', ...D, '--metadata-only', '-q'], '{"n":0}\n');
  const follower = new Daemon(['consume', 'T', '--name', 'live', ...D, '-f']);
  t.teardown(() => void follower.stop('SIGKILL'));
  await waitFor('the first event', () => follower.stdout.includes('"n":0'));
  for (let n = 1; n <= 3; n++) {
    t.is((await ctl(['produce', 'T', ...D], JSON.stringify({ metadata: { n }, data: bytes(n, 50).toString('base64') }) + '\n')).code, 0);
    await waitFor(`live event ${n}`, () => follower.stdout.includes(`"n":${n}`));
  }
  const end = await follower.stop('SIGTERM');
  t.is(end.code, 0, follower.stderr);
  const lines = jsonLines<Line>(follower.stdout);
  t.deepEqual(lines.map((e) => (e.metadata as { n: number }).n), [0, 1, 2, 3]);
  t.true(Buffer.from(lines[3].data!, 'base64').equals(bytes(3, 50)));
  // Each produce run starts its round robin at partition 0, so every event is in partition 0.
  const pos = jsonLines<{ name: string; partitions: Array<{ partition: number; lag: number; lastAcknowledged: number }> }>((await ctl(['consumers', 'T', ...D, '--json'])).stdout);
  t.is(pos[0].name, 'live');
  t.deepEqual(pos[0].partitions.find((p) => p.partition === 0), { partition: 0, lastAcknowledged: 3, endId: 4, lag: 0 } as never);
});

test('dump: ranges, partitions, JSON lines and text, without touching consumer state', async (t) => {
  const D = await setup(t, 2);
  const input = inputLines(20);
  await ctl(['produce', 'T', ...D, '-q'], input.join('\n'));
  const all = jsonLines<Line>((await ctl(['dump', 'T', ...D, '--json'])).stdout);
  t.deepEqual(all.map((e) => [e.partition, e.id]), [...Array.from({ length: 10 }, (_, i) => [0, i]), ...Array.from({ length: 10 }, (_, i) => [1, i])]);
  const range = jsonLines<Line>((await ctl(['dump', 'T', ...D, '--json', '--partition', '1', '--from', '3', '--to', '5'])).stdout);
  t.deepEqual(range.map((e) => [e.partition, e.id]), [[1, 3], [1, 4], [1, 5]]);
  t.deepEqual(range[0], all[13]);
  const text = await ctl(['dump', 'T', ...D, '--partition', '0', '--max', '2']);
  t.is(text.code, 0);
  const textLines = text.stdout.trim().split('\n');
  t.is(textLines.length, 2);
  t.true(textLines[0].startsWith('[p0 #0] '));
  t.true(textLines[1].includes(`${(2 * 131) % 700} bytes: ${bytes(2, 32).toString('hex')}...`));
  t.is((await ctl(['consumers', 'T', ...D])).stdout, '', 'dump left no consumer behind');
  t.is(jsonLines((await ctl(['dump', 'T', ...D, '--json', '--filter', '{"a":[1]}'])).stdout).length, 3);
});

test('verify passes on intact data and reports a flipped byte with its file and offset', async (t) => {
  const D = await setup(t, 2);
  await ctl(['produce', 'T', ...D, '-q'], inputLines(30).join('\n'));
  const ok = await ctl(['verify', 'T', ...D]);
  t.is(ok.code, 0, ok.stdout + ok.stderr);
  const partDir = path.join(D[1], 'T', 'partitions', '00000001');
  const dataFile = fs.readdirSync(partDir).filter((f) => f.endsWith('.data')).map((f) => path.join(partDir, f)).sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0];
  const buf = fs.readFileSync(dataFile);
  const at = Math.floor(buf.length / 2);
  buf[at] ^= 0x01;
  fs.writeFileSync(dataFile, buf);
  const bad = await ctl(['verify', ...D, '--json']);
  t.is(bad.code, 3);
  const problems = jsonLines<{ topic: string; partition: number; file: string; offset: number; message: string }>(bad.stdout);
  t.true(problems.length >= 1);
  t.is(problems[0].topic, 'T');
  t.is(problems[0].partition, 1);
  t.is(problems[0].file, dataFile);
  t.true(problems[0].offset <= at);
  t.regex(bad.stderr, /problem\(s\) found/);
  const textual = await ctl(['verify', 'T', ...D]);
  t.is(textual.code, 3);
  t.true(textual.stdout.includes(`${dataFile} at offset ${problems[0].offset}`));
});

test('produce commits the lines of one read of its input in one batch (its first append holds them all)', async (t) => {
  // Seen through retention: a producer's first append always checks the policy (docs/retention.md), so when that
  // append holds the whole input, the sealed segments it filled are trimmed at once. Written one line at a time, the
  // first append would hold one event, and nothing would be trimmed before the next check a second later.
  const D = ['--driver.root_path', path.join(tempDir(t), 'root'), '--driver.segment_bytes', '4096'];
  t.is((await ctl(['topic', 'create', ...D, '--name', 'T', '--topic.retention_bytes', '1'])).code, 0);
  const file = path.join(tempDir(t), 'in.jsonl');
  fs.writeFileSync(file, inputLines(40).join('\n') + '\n'); // well under one read (64 KiB)
  const r = await ctl(['produce', 'T', ...D, '-q', '--input', file]);
  t.is(r.code, 0, r.stderr);
  const [described] = jsonLines<{ partitions: Array<{ firstId: number; endId: number }> }>((await ctl(['topic', 'describe', 'T', ...D, '--json'])).stdout);
  t.is(described!.partitions[0]!.endId, 40);
  t.true(described!.partitions[0]!.firstId > 0, `first id ${described!.partitions[0]!.firstId}: nothing was trimmed by the first append`);
});

test('--metadata-only stores each line as the JSON text given, and consume prints that text', async (t) => {
  const D = await setup(t, 1);
  const text = '{ "b" : 1 ,"a":[ 2.50, "\\u00e9" ] }';
  t.is((await ctl(['produce', 'T', ...D, '--metadata-only', '-q'], `${text}\n[]\n`)).code, 0);
  const out = (await ctl(['consume', 'T', ...D])).stdout.split('\n');
  t.true(out[0]!.includes(`"metadata":${text},`), out[0]);
  t.deepEqual((JSON.parse(out[0]!) as Line).metadata, { b: 1, a: [2.5, 'é'] });
  t.true(out[1]!.includes('"metadata":[],'), out[1]);
});

test('consume prints and acknowledges the events before a damaged one, then fails naming it', async (t) => {
  const D = await setup(t, 1);
  const lines = Array.from({ length: 10 }, (_, i) => `{"i":${i}}`); // 7 bytes each
  t.is((await ctl(['produce', 'T', ...D, '--metadata-only', '-q'], lines.join('\n') + '\n')).code, 0);
  const meta = path.join(D[1]!, 'T', 'partitions', '00000000', '00000000000000000000.meta');
  const fd = fs.openSync(meta, 'r+');
  fs.writeSync(fd, Buffer.from('7'), 0, 1, 5 * 7 + 5); // event 5's digit
  fs.closeSync(fd);
  const r = await ctl(['consume', 'T', '--name', 'c', ...D]);
  t.is(r.code, 1);
  t.regex(r.stderr, /\[CORRUPTION\]/);
  t.deepEqual(jsonLines<Line>(r.stdout).map((e) => e.metadata), [0, 1, 2, 3, 4].map((i) => ({ i })));
  const positions = jsonLines<{ name: string; partitions: Array<{ lastAcknowledged: number }> }>((await ctl(['consumers', 'T', ...D, '--json'])).stdout);
  t.is(positions.find((c) => c.name === 'c')?.partitions[0]?.lastAcknowledged, 4);
});

test('produce prints the ids of a batch once it committed, while the input is still open', async (t) => {
  const D = await setup(t, 1);
  const child = spawn(process.execPath, [CTL, 'produce', 'T', ...D], { stdio: ['pipe', 'pipe', 'pipe'] });
  t.teardown(() => void child.kill());
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
  child.stderr.on('data', (b: Buffer) => (err += b.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  child.stdin.write('{"metadata":{"a":1}}\n');
  // The input stays open: the id comes because its batch committed, not because the input ended.
  await waitFor(`the first id (stderr: ${err})`, () => out.includes('\n'));
  t.is(out, '{"line":1,"partition":0,"id":0}\n');
  child.stdin.end('{"metadata":{"a":2}}\n');
  t.is(await exited, 0, err);
  t.is(out, '{"line":1,"partition":0,"id":0}\n{"line":2,"partition":0,"id":1}\n');
});

test('produce whose reader of stdout goes away (| head -1) stops quietly, exit 0, with what it pushed committed', async (t) => {
  const D = await setup(t, 2);
  const child = spawn(process.execPath, [CTL, 'produce', 'T', ...D], { stdio: ['pipe', 'pipe', 'pipe'] });
  t.teardown(() => void child.kill());
  let err = '';
  child.stderr.on('data', (b: Buffer) => (err += b.toString('utf8')));
  child.stdin.on('error', () => {}); // it may stop reading before the end
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  child.stdout.once('data', () => child.stdout.destroy()); // the reader takes one chunk and leaves
  const lines = Array.from({ length: 200 }, (_, i) => `{"metadata":{"i":${i}}}\n`).join('');
  // Lines keep coming until the command stops (or 30 s: a hang guard).
  const feeder = setInterval(() => child.stdin.writable && child.stdin.write(lines), 5);
  const code = await Promise.race([exited, new Promise<string>((resolve) => setTimeout(() => resolve('still running after 30 s'), 30_000))]);
  clearInterval(feeder);
  child.kill();
  t.is(code, 0, err);
  t.notRegex(err, /error/);
  const produced = /produced (\d+) event\(s\) into 'T' \(stdout was closed: the rest of the input was not read\)/.exec(err);
  t.truthy(produced, err);
  const consumed = jsonLines<Line>((await ctl(['consume', 'T', ...D, '--no-data'])).stdout);
  t.is(consumed.length, Number(produced![1]), 'every event it pushed is committed');
});

test('consume whose reader goes away (| head) acknowledges only what it printed; the next run goes on from there', async (t) => {
  const D = await setup(t, 1);
  // ~1.2 MB of lines: many 64 KiB chunks, filled in the middle of the consumer's batches.
  const pad = 'p'.repeat(200);
  const input = Array.from({ length: 5000 }, (_, i) => JSON.stringify({ metadata: { i, pad } })).join('\n') + '\n';
  t.is((await ctl(['produce', 'T', ...D, '-q'], input)).code, 0);
  // A real `| head` (consume's stdout a pipe of 64 KiB, not the socket pair of Node's spawn(), whose ~200 KiB buffer
  // takes several chunks, all rightly acknowledged, before anything is read). head takes 50 lines (two 8 KiB reads),
  // then the pipe stays open (sleep) until consume has filled it: 16 + 64 KiB handed over, more than the first chunk
  // (64 Ki characters at most plus a line), whatever the timing; then the reader goes away.
  const child = spawn('sh', ['-c', '"$0" "$@" | { head -n 50; sleep 2; }', process.execPath, CTL, 'consume', 'T', '--name', 'h', ...D], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => void child.kill('SIGKILL'));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  let text = '';
  child.stdout.on('data', (b: Buffer) => (text += b.toString('utf8')));
  const code = await Promise.race([exited, new Promise<string>((resolve) => setTimeout(() => resolve('still running after 30 s'), 30_000))]);
  t.not(code, 'still running after 30 s');
  const printed = text.split('\n').slice(0, -1).map((l) => (JSON.parse(l) as Line).id);
  t.deepEqual(printed, Array.from({ length: 50 }, (_, i) => i), 'events 0.. in order');
  const positions = jsonLines<{ partitions: Array<{ lastAcknowledged: number | null }> }>((await ctl(['consumers', 'T', ...D, '--json'])).stdout);
  const acked = positions[0]?.partitions[0]?.lastAcknowledged ?? -1;
  // Acknowledged means handed to the pipe whole, which can be more than the reader took, but never more than head read
  // (whole 8 KiB blocks until its 50th line) plus the 64 KiB the pipe held when the reader left. Chunks are not all
  // of one size (a chunk is written at the end of an event loop turn too), so the bound is in bytes: the lines of the
  // events acknowledged, each at least as long as the shortest line printed, fit in it; the chunk whose write failed
  // acknowledged nothing. (Acknowledging a chunk before writing it acknowledges ~450 lines here.)
  const shortest = Math.min(...text.split('\n').slice(0, -1).map((l) => Buffer.byteLength(l) + 1));
  const headRead = Math.ceil(Buffer.byteLength(text) / 8192) * 8192;
  const handedOver = headRead + 65536;
  t.true(acked >= 0 && (acked + 1) * shortest <= handedOver, `acknowledged up to ${acked}: ${acked + 1} lines of ${shortest}+ bytes; at most ${handedOver} bytes were handed over`);
  const rest = jsonLines<Line>((await ctl(['consume', 'T', '--name', 'h', ...D])).stdout).map((e) => e.id);
  t.deepEqual(rest, Array.from({ length: 5000 - acked - 1 }, (_, k) => acked + 1 + k), 'the next run delivers every event after the acknowledged one');
});

test('a partition that does not exist is OUT_OF_RANGE, and inside an input line it names the line', async (t) => {
  const D = await setup(t, 2);
  const forced = await ctl(['produce', 'T', ...D, '--partition', '9'], '{"metadata":1}\n');
  t.is(forced.code, 1);
  t.is(forced.stderr, 'diaspora-ctl: error: --partition 9: topic "T" has 2 partitions; no partition 9 [OUT_OF_RANGE]\n');
  const inLine = await ctl(['produce', 'T', ...D], '{"metadata":1,"partition":1}\n{"metadata":2,"partition":5}\n{"metadata":3}\n');
  t.is(inLine.code, 1);
  t.deepEqual(jsonLines(inLine.stdout), [{ line: 1, partition: 1, id: 0 }], 'the line before it is committed and reported');
  t.is(inLine.stderr, 'diaspora-ctl: error: stdin:2: topic "T" has 2 partitions; no partition 5 [OUT_OF_RANGE]\n');
  const dumped = await ctl(['dump', 'T', ...D, '--partition', '7']);
  t.is(dumped.code, 1);
  t.is(dumped.stderr, 'diaspora-ctl: error: topic "T" has 2 partitions; no partition 7 [OUT_OF_RANGE]\n');
});

test('produce refuses a line with a key it does not know, naming the line, and pushes nothing from it on', async (t) => {
  const D = await setup(t, 2);
  const r = await ctl(['produce', 'T', ...D], '{"metadata":1,"data":"aGk="}\n{"metadata":2,"Data":"aGk="}\n{"metadata":3}\n');
  t.is(r.code, 1);
  t.regex(r.stderr, /^diaspora-ctl: error: stdin:2: unknown key "Data" .*\[BAD_ARGUMENT\]\n$/);
  t.deepEqual(jsonLines<Line>((await ctl(['consume', 'T', ...D])).stdout).map((e) => [e.metadata, e.data]), [[1, 'aGk=']]);
});

test('produce --input naming no file, or a folder, is an IO error naming the file, not a bare ENOENT', async (t) => {
  const D = await setup(t, 1);
  const dir = tempDir(t);
  for (const input of [path.join(dir, 'missing.jsonl'), dir]) {
    const r = await ctl(['produce', 'T', ...D, '--input', input]);
    t.is(r.code, 1);
    t.regex(r.stderr, /^diaspora-ctl: error: cannot read .*: E[A-Z]+: .* \[IO\]\n$/, input);
    t.true(r.stderr.includes(input));
  }
});
