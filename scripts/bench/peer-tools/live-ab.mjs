// A/B driver for the peer benchmark's (a-live) group (../shared/peers/src/worker.mjs): for each repetition and
// adapter, a fresh store, a live consumer process started first, then the producer process, as the peer benchmark
// runs them; prints per adapter the medians of producer events/s, end-to-end events/s (first push to last event
// delivered) and the CPU time of each whole process, plus every run's end-to-end rate. No idle-machine wait and no
// other peers: for comparing two checkouts (DIASPORA_STREAM_DIR=...) or a change against a baseline, alternating.
//   PEERS_DIR=<peers> node scripts/bench/peer-tools/live-ab.mjs <reps> <adapter file>...
//   PROF_OUT=<prefix> writes a CPU profile of each timed region (<prefix>.<adapter>.<role>...; see phase-ab.mjs).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const PEERS = path.resolve(process.env.PEERS_DIR || '../shared/peers');
const W = path.join(PEERS, 'src', process.env.PROF_OUT ? 'worker-prof.mjs' : 'worker.mjs');
const [reps, ...adapters] = process.argv.slice(2);
if (!(+reps > 0) || adapters.length === 0) {
  console.error('usage: PEERS_DIR=<peers> node live-ab.mjs <reps> <adapter file>...');
  process.exit(2);
}

/** Runs one phase; `onReady` is called once a live consumer prints READY. */
function run(job, onReady) {
  return new Promise((resolve, reject) => {
    const env = process.env.PROF_OUT ? { ...process.env, PROF_OUT: `${process.env.PROF_OUT}.${path.basename(job.adapterFile, '.mjs')}.${job.role}` } : process.env;
    const child = spawn(process.execPath, [W, JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'inherit'], env });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (s) => {
      out += s;
      if (onReady && out.includes('READY\n')) {
        const f = onReady;
        onReady = undefined;
        f();
      }
    });
    child.on('error', reject);
    child.on('close', () => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      const res = line ? JSON.parse(line.slice(7)) : { error: `no result: ${out}` };
      if (res.error) return reject(new Error(res.error));
      resolve(res);
    });
  });
}

const rows = {};
for (let k = 0; k < +reps; k++) {
  for (const a of adapters) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'live-ab-'));
    const ctx = { dir, topic: 'bench', partition: 0 };
    let go;
    const ready = new Promise((r) => (go = r));
    const consumer = run({ adapterFile: a, role: 'consume', workload: 'a', quick: false, ctx, consumer: 'live', live: true }, go);
    // A consumer that fails before READY must not leave this waiting forever.
    await Promise.race([ready, consumer]);
    const p = await run({ adapterFile: a, role: 'produce', workload: 'a', quick: false, ctx, live: true });
    const c = await consumer;
    if (c.events !== p.events) throw new Error(`${a}: ${c.events} of ${p.events} events consumed`);
    (rows[path.basename(a)] ??= []).push([p.events / p.seconds, p.events / ((c.tEnd - p.tStart) / 1000), p.cpuMs, c.cpuMs]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
const med = (xs) => xs.slice().sort((x, y) => x - y)[xs.length >> 1];
for (const [name, v] of Object.entries(rows)) {
  const m = (i) => Math.round(med(v.map((x) => x[i])));
  console.log(name.padEnd(28), 'producer', m(0), 'end-to-end', m(1), 'producer cpu ms', m(2), 'consumer cpu ms', m(3), ' runs:', v.map((x) => Math.round(x[1] / 1000) + 'k').join(' '));
}
