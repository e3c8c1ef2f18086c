// The command line as a shell user runs it: `diaspora-ctl produce` fed JSON lines from a file or a pipe, and
// `diaspora-ctl consume` printing them into a file, each a fresh process timed from spawn to exit (process start
// included: that is what the user waits for). Beside it, in the same run and the same way, the raw baseline of such
// a pipeline: a Node process appending the lines to a plain file (length-prefixed, one write per chunk read) and
// one printing them back. Every run's output is checked: the ids, and every event's metadata and data.
//   node dist/scripts/bench/cli-pipeline.js [--quick] [--rounds n] [--ctl <diaspora-ctl.js of another checkout>]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { settle } from '../lib/settle.js';
import { dataSource, metaText } from './user-path/events.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const program = new Command('cli-pipeline')
  .option('--quick', 'one tenth of the events')
  .option('--rounds <n>', 'runs of each phase (the table shows medians)', '3')
  .option('--ctl <file>', 'the diaspora-ctl.js to measure', path.join(HERE, '..', 'cli', 'diaspora-ctl.js'));
program.parse();
const o = program.opts<{ quick?: boolean; rounds: string; ctl: string }>();
const scale = o.quick ? 10 : 1;
const ROUNDS = Math.max(1, Number(o.rounds));
const CTL = path.resolve(o.ctl);

// The raw baseline: the same pipeline with a plain file instead of a topic (Node, chunked I/O, no checks).
const RAW_APPEND = `
const fs = require('node:fs');
const fd = fs.openSync(process.argv[1], 'a');
let rest = '';
process.stdin.on('data', (chunk) => {
  const lines = (rest + chunk).split('\\n');
  rest = lines.pop();
  const parts = [];
  for (const l of lines) { const b = Buffer.from(l); const h = Buffer.alloc(4); h.writeUInt32LE(b.length); parts.push(h, b); }
  fs.writevSync(fd, parts);
});
process.stdin.on('end', () => fs.closeSync(fd));`;
const RAW_PRINT = `
const fs = require('node:fs');
const buf = fs.readFileSync(process.argv[1]);
let out = [];
let size = 0;
for (let p = 0; p < buf.length; ) {
  const n = buf.readUInt32LE(p);
  out.push(buf.subarray(p + 4, p + 4 + n), Buffer.from('\\n'));
  size += n + 1;
  p += 4 + n;
  if (size >= 65536) { fs.writeSync(1, Buffer.concat(out)); out = []; size = 0; }
}
if (out.length) fs.writeSync(1, Buffer.concat(out));`;

interface Run {
  seconds: number;
}

/** Runs `args` with stdin from `input` (a file, or piped through `cat` with viaPipe) and stdout into `output`. */
function timed(args: string[], input: string | null, output: string, viaPipe = false): Promise<Run> {
  return new Promise((resolve, reject) => {
    const out = fs.openSync(output, 'w');
    const t0 = performance.now();
    const cat = input !== null && viaPipe ? spawn('cat', [input], { stdio: ['ignore', 'pipe', 'inherit'] }) : null;
    const inFd = input !== null && !viaPipe ? fs.openSync(input, 'r') : null;
    const child = spawn(process.execPath, args, { stdio: [cat ? cat.stdout! : inFd ?? 'ignore', out, 'pipe'] });
    let err = '';
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = (performance.now() - t0) / 1000;
      fs.closeSync(out);
      if (inFd !== null) fs.closeSync(inFd);
      if (code !== 0) reject(new Error(`${args.join(' ')} exited ${code}: ${err}`));
      else resolve({ seconds });
    });
  });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Shape {
  name: string;
  events: number;
  /** The input line of event i. */
  line: (i: number) => string;
  /** Whether the lines are bare metadata (--metadata-only). */
  metadataOnly: boolean;
  check: (i: number, consumed: { metadata: unknown; data?: string }) => boolean;
}

function shapes(): Shape[] {
  const dataOf = dataSource(1024);
  return [
    {
      name: `${(200_000 / scale).toLocaleString('en-US')} x 128 B metadata lines (--metadata-only)`,
      events: 200_000 / scale,
      line: metaText,
      metadataOnly: true,
      check: (i, e) => JSON.stringify(e.metadata) === metaText(i),
    },
    {
      name: `${(100_000 / scale).toLocaleString('en-US')} x event lines (128 B metadata + 1 KiB data, base64)`,
      events: 100_000 / scale,
      line: (i) => `{"metadata":${metaText(i)},"data":"${dataOf(i)!.toString('base64')}"}`,
      metadataOnly: false,
      check: (i, e) => JSON.stringify(e.metadata) === metaText(i) && e.data === dataOf(i)!.toString('base64'),
    },
  ];
}

/** Checks a consume output (all events in order, each as produced) and a produce output (ids 0..n-1). */
function checkOutputs(shape: Shape, consumed: string, ids: string | null): void {
  const lines = fs.readFileSync(consumed, 'utf8').split('\n').filter((l) => l !== '');
  if (lines.length !== shape.events) throw new Error(`consume printed ${lines.length} of ${shape.events} events`);
  lines.forEach((l, i) => {
    const e = JSON.parse(l) as { id: number; metadata: unknown; data?: string };
    if (e.id !== i || !shape.check(i, e)) throw new Error(`event ${i} printed as ${l.slice(0, 200)}`);
  });
  if (ids !== null) {
    const got = fs.readFileSync(ids, 'utf8').split('\n').filter((l) => l !== '');
    if (got.length !== shape.events || got.some((l, i) => (JSON.parse(l) as { id: number }).id !== i)) throw new Error('produce reported wrong ids');
  }
}

const rate = (events: number, s: number): string => Math.round(events / s).toLocaleString('en-US');

async function main(): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'diaspora-cli-bench-'));
  const rows: string[] = [];
  try {
    for (const shape of shapes()) {
      const input = path.join(root, 'input.jsonl');
      fs.writeFileSync(input, Array.from({ length: shape.events }, (_, i) => shape.line(i)).join('\n') + '\n');
      const times: Record<string, number[]> = {};
      const add = (k: string, r: Run): void => void (times[k] ??= []).push(r.seconds);
      for (let round = 0; round < ROUNDS; round++) {
        const dataRoot = path.join(root, `r${round}`);
        const D = ['--driver.root_path', dataRoot];
        const only = shape.metadataOnly ? ['--metadata-only'] : [];
        await timed([CTL, 'topic', 'create', '--name', 'f', ...D], null, '/dev/null');
        await timed([CTL, 'topic', 'create', '--name', 'p', ...D], null, '/dev/null');
        settle();
        add('produce --input FILE -q', await timed([CTL, 'produce', 'f', ...D, ...only, '-q', '--input', input], null, '/dev/null'));
        settle();
        const ids = path.join(root, 'ids.jsonl');
        add('produce < pipe, ids > file', await timed([CTL, 'produce', 'p', ...D, ...only], input, ids, true));
        settle();
        const consumed = path.join(root, 'out.jsonl');
        add('consume --name c > file', await timed([CTL, 'consume', 'p', ...D, '--name', 'c'], null, consumed));
        checkOutputs(shape, consumed, ids);
        settle();
        const raw = path.join(root, `raw${round}.log`);
        add('raw: pipe -> append to a file', await timed(['-e', RAW_APPEND, raw], input, '/dev/null', true));
        settle();
        add('raw: print the file > file', await timed(['-e', RAW_PRINT, raw], null, path.join(root, 'raw-out')));
        fs.rmSync(dataRoot, { recursive: true, force: true });
        fs.rmSync(raw, { force: true });
      }
      rows.push(`| ${shape.name} | | |`);
      const rawIn = median(times['raw: pipe -> append to a file']!);
      const rawOut = median(times['raw: print the file > file']!);
      for (const [k, xs] of Object.entries(times)) {
        const s = median(xs);
        const vsRaw = k.startsWith('raw') ? '' : `${Math.round((100 * (k.startsWith('consume') ? rawOut : rawIn)) / s)} %`;
        rows.push(`| ${k} | ${rate(shape.events, s)} | ${vsRaw} |`);
      }
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  console.log(`CLI pipeline, events/s from spawn to exit (median of ${ROUNDS}), ${CTL}`);
  console.log('| phase | events/s | of the raw pipeline |');
  console.log('|---|---:|---:|');
  for (const r of rows) console.log(r);
}

await main();
