// A/B driver around the peer benchmark's worker (../shared/peers/src/worker.mjs): for each repetition and adapter, a
// fresh store, then one fresh process per phase (produce, consume, and (d) with --select), as the peer benchmark
// runs them; prints the median events/s per adapter. No idle-machine wait and no other peers: for comparing two
// checkouts (DIASPORA_STREAM_DIR=...) or a change against a baseline, alternating, on the same machine state.
//   PEERS_DIR=<peers> node scripts/bench/peer-tools/phase-ab.mjs <a|b|c> <reps> <adapter file>... [--select]
//   TAG=x labels the rows; CPU=1 reports events per CPU-second of the timed region instead of per wall second;
//   PROF_OUT=<prefix> writes a CPU profile of each timed region (<prefix>.<adapter>.<phase>.cpuprofile; PROF_HEAP=1: a
//   sampling heap profile) through worker-prof.mjs (CPU=1 too), which make-worker-prof.mjs writes next to the harness' worker.mjs.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
const args = process.argv.slice(2);
const select = args.includes('--select');
const pos = args.filter((a) => !a.startsWith('--'));
const [wl, reps, ...adapters] = pos;
const PEERS = path.resolve(process.env.PEERS_DIR || '../shared/peers');
const W = path.join(PEERS, 'src', process.env.PROF_OUT || process.env.CPU ? 'worker-prof.mjs' : 'worker.mjs');
function run(adapterFile, role, dir, extra = {}) {
  const job = { adapterFile, role, workload: wl, quick: false, ctx: { dir, topic: 'bench', partition: 0 }, consumer: 'c1', select: false, ...extra };
  // One profile file per adapter and phase: <PROF_OUT>.<adapter file name>.<phase>.cpuprofile
  const env = process.env.PROF_OUT ? { ...process.env, PROF_OUT: `${process.env.PROF_OUT}.${path.basename(adapterFile, '.mjs')}` } : process.env;
  const r = spawnSync(process.execPath, [W, JSON.stringify(job)], { encoding: 'utf8', env });
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`no result from ${W}: ${r.stdout}${r.stderr}`);
  const res = JSON.parse(line.slice(7));
  if (res.error) throw new Error(res.error);
  return res;
}
const rows = {};
for (let k = 0; k < +reps; k++) for (const a of adapters) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ab-'));
  const name = path.basename(a) + (process.env.TAG ? ':' + process.env.TAG : '');
  const p = run(a, 'produce', dir);
  const c = run(a, 'consume', dir);
  const d = select ? run(a, 'consume', dir, { consumer: 'sel', select: true }) : null;
  const cpu = !!process.env.CPU;
  const r = (x) => (cpu ? x.events / (x.timedCpuMs / 1000) : x.events / x.seconds);
  (rows[name] ??= []).push([r(p), r(c), d ? r(d) : 0, c.maxRssKiB / 1024]);
  fs.rmSync(dir, { recursive: true, force: true });
}
const med = (xs) => xs.slice().sort((x, y) => x - y)[xs.length >> 1];
for (const [n, rs] of Object.entries(rows)) console.log(n.padEnd(28), 'produce', Math.round(med(rs.map((r) => r[0]))), 'consume', Math.round(med(rs.map((r) => r[1]))), select ? 'select ' + Math.round(med(rs.map((r) => r[2]))) : '', 'rss', Math.round(med(rs.map((r) => r[3]))));
