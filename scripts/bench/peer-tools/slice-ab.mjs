// Where a consume phase spends its time, 10,240 events at a time, for several adapters alternating: one store per
// adapter written once by a producer process, then <reps> rounds of one fresh consume process per adapter (a new
// consumer name each time), each measured through slice-wrap.mjs. Prints per adapter the median events/s, the first
// slice's ms (each round, and the median), the median ms of all the other slices together, and the median page faults
// of the first slice and of the others. No idle-machine wait and no other peers: compare the rows of one run.
//   PEERS_DIR=<peers> DIASPORA_STREAM_DIR=<checkout> node scripts/bench/peer-tools/slice-ab.mjs <a|b|c> <reps> <adapter file>...
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const [wl, reps, ...adapters] = process.argv.slice(2);
if (!wl || !(+reps > 0) || adapters.length === 0) {
  console.error('usage: slice-ab.mjs <a|b|c> <reps> <adapter file>...');
  process.exit(2);
}
const PEERS = path.resolve(process.env.PEERS_DIR || '../shared/peers');
const WORKER = path.join(PEERS, 'src', 'worker.mjs');
const WRAP = path.join(path.dirname(fileURLToPath(import.meta.url)), 'slice-wrap.mjs');

function run(adapterFile, role, dir, consumer) {
  const job = { adapterFile: WRAP, role, workload: wl, quick: false, ctx: { dir, topic: 'bench', partition: 0 }, consumer, select: false };
  const r = spawnSync(process.execPath, [WORKER, JSON.stringify(job)], { encoding: 'utf8', env: { ...process.env, SLICE_OF: path.resolve(adapterFile) } });
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`no result from ${WORKER}: ${r.stdout}${r.stderr}`);
  const res = JSON.parse(line.slice(7));
  if (res.error) throw new Error(res.error);
  const numbers = (tag) => (r.stderr.split('\n').find((l) => l.startsWith(`${tag} `)) ?? tag).split(' ').slice(1).map(Number);
  return { rate: res.events / res.seconds, slices: numbers('SLICES'), faults: numbers('FAULTS') };
}

const med = (xs) => xs.slice().sort((x, y) => x - y)[xs.length >> 1];
const sum = (xs) => xs.reduce((s, x) => s + x, 0);
const dirs = adapters.map((a) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'slice-ab-'));
  run(a, 'produce', dir, 'p');
  return dir;
});
try {
  const rounds = adapters.map(() => []);
  for (let k = 0; k < +reps; k++) adapters.forEach((a, j) => rounds[j].push(run(a, 'consume', dirs[j], `c${k}`)));
  adapters.forEach((a, j) => {
    const rs = rounds[j];
    console.log(
      path.basename(a).padEnd(24),
      `ev/s ${Math.round(med(rs.map((r) => r.rate)))}`,
      `| first slice ms ${rs.map((r) => r.slices[0].toFixed(0)).join(' ')} (median ${med(rs.map((r) => r.slices[0])).toFixed(0)})`,
      `| the rest ms ${med(rs.map((r) => sum(r.slices.slice(1)))).toFixed(0)}`,
      `| faults first ${med(rs.map((r) => r.faults[0]))} rest ${med(rs.map((r) => sum(r.faults.slice(1))))}`,
    );
  });
} finally {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
}
