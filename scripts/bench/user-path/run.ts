// The user-path benchmark (`npm run bench` headline rows): each phase in a fresh process, metadata pushed as JSON
// text and handed back as text, every event checked byte for byte, an acknowledgement every 128 events; beside
// raw-file baselines run the same way in the same run (one append-only file: write per batch, then mapped and
// walked zero-copy), and for (c) the CRC-32 speed of one core over a fresh mapping of the raw log (the bound of a
// verified read, see crc-bound.ts).
// The peer benchmark (SQLite, Redis, NATS, ...) measures the same workloads: see docs/benchmarks.md.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32MappedGBps } from '../crc-bound.js';
import { settle } from '../../lib/settle.js';
import { WORKLOADS } from './events.js';
import type { Job, PhaseResult } from './phase.js';

const PHASE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'phase.js');

/** Runs one phase in a fresh node process; `onReady` is called when a live consumer says it waits. */
function runPhase(job: Job, onReady?: () => void): Promise<PhaseResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [PHASE, JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      if (onReady && out.includes('READY\n')) {
        const f = onReady;
        onReady = undefined;
        f();
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (!line) return reject(new Error(`phase ${job.engine} ${job.role} ${job.workload} exited ${code} without a result`));
      const r = JSON.parse(line.slice(7)) as PhaseResult;
      if (r.error) return reject(new Error(`phase ${job.engine} ${job.role} ${job.workload}: ${r.error}`));
      resolve(r);
    });
  });
}

const evs = (r: PhaseResult): number => r.events / r.seconds;
const gbs = (r: PhaseResult): number => r.bytes / 1e9 / r.seconds;
const n0 = (x: number): string => Math.round(x).toLocaleString('en-US');
const pct = (a: number, b: number): string => `${Math.round((100 * a) / b)}%`;

export interface UserPathOptions {
  workloads: string[];
  /** A tenth of the events (smoke test). */
  quick?: boolean;
  root?: string;
}

/** Runs the groups and returns the Markdown table rows. */
export async function runUserPath(o: UserPathOptions): Promise<string[]> {
  const root = fs.mkdtempSync(path.join(o.root ?? os.tmpdir(), 'diaspora-userpath-'));
  const rows: string[] = [];
  const row = (...cells: string[]): void => void rows.push(`| ${cells.join(' | ')} |`);
  let groupCounter = 0;
  const fresh = (): string => {
    const dir = path.join(root, `g${++groupCounter}`);
    fs.mkdirSync(dir);
    return dir;
  };
  const phase = async (job: Job): Promise<PhaseResult> => {
    settle(); // no phase pays for the previous one's garbage or dirty pages
    return runPhase({ ...job, quick: o.quick });
  };
  try {
    for (const g of o.workloads) {
      if (g === 'live') {
        const dir = fresh();
        settle();
        let go!: () => void;
        const ready = new Promise<void>((r) => (go = r));
        const cons = runPhase({ engine: 'diaspora', role: 'consume', workload: 'a', dir, live: true, quick: o.quick }, go);
        await ready;
        const prod = await runPhase({ engine: 'diaspora', role: 'produce', workload: 'a', dir, quick: o.quick });
        const c = await cons;
        const e2e = prod.events / ((c.tEnd - prod.tStart) / 1000);
        row('(a-live) producer + live consumer', `${n0(evs(prod))} ev/s produced, ${n0(e2e)} ev/s end to end`, '', '', `consumer done ${Math.round(c.tEnd - prod.tEnd)} ms after the producer`);
        continue;
      }
      const w = WORKLOADS[g];
      if (!w) throw new Error(`unknown workload ${g} (a, live, b, c)`);
      const dir = fresh();
      const p = await phase({ engine: 'diaspora', role: 'produce', workload: g, dir });
      const rp = await phase({ engine: 'raw', role: 'produce', workload: g, dir });
      const c = await phase({ engine: 'diaspora', role: 'consume', workload: g, dir });
      const rc = await phase({ engine: 'raw', role: 'consume', workload: g, dir });
      if (g === 'c') {
        const fast = await phase({ engine: 'diaspora', role: 'consume', workload: g, dir, verifyData: false });
        const bound = crc32MappedGBps(path.join(dir, 'raw.log')).gbps; // the raw row's file: same bytes, same run
        row('(c) produce 1 MiB', `${(gbs(p)).toFixed(2)} GB/s`, `${gbs(rp).toFixed(2)} GB/s`, pct(gbs(p), gbs(rp)), '');
        row('(c) consume, verify_data (default)', `${gbs(c).toFixed(2)} GB/s`, `CRC-32 of one core, mapped ${bound.toFixed(2)} GB/s`, pct(gbs(c), bound), 'bound: CRC-32 speed');
        row('(c) consume, verify_data: false', `${gbs(fast).toFixed(2)} GB/s`, `${gbs(rc).toFixed(2)} GB/s`, pct(gbs(fast), gbs(rc)), '>= 80% of raw mmap');
        continue;
      }
      const target = g === 'a' ? '>= 60% of raw' : '';
      row(`(${g}) produce`, `${n0(evs(p))} ev/s`, `${n0(evs(rp))} ev/s`, pct(evs(p), evs(rp)), target);
      row(`(${g}) consume`, `${n0(evs(c))} ev/s, ${Math.round(c.maxRssMiB)} MiB RSS`, `${n0(evs(rc))} ev/s, ${Math.round(rc.maxRssMiB)} MiB RSS`, pct(evs(c), evs(rc)), g === 'a' ? '>= 60% of raw' : '>= 70% of raw mmap; RSS <= 1.2x');
      if (g === 'b') {
        const s = await phase({ engine: 'diaspora', role: 'select', workload: g, dir });
        const rs = await phase({ engine: 'raw', role: 'select', workload: g, dir });
        row('(d) consume (b), data for energy > 49, first 256 B', `${n0(evs(s))} ev/s`, `${n0(evs(rs))} ev/s`, pct(evs(s), evs(rs)), '>= 80% of raw mmap');
      }
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  return rows;
}

export const USER_PATH_HEADER = [
  '| workload (fresh process per phase, text metadata, every byte checked) | diaspora-stream | raw file, same run | ratio | target |',
  '|---|---|---|---|---|',
];

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const only = process.argv.find((a) => a.startsWith('--only='))?.slice(7) ?? 'a,live,b,c';
  const rows = await runUserPath({ workloads: only.split(','), quick: process.argv.includes('--quick') });
  console.log([...USER_PATH_HEADER, ...rows].join('\n'));
}
