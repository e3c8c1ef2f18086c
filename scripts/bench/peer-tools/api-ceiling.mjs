// How far the consume path of workload (a) could go: the peer harness' verifier (../shared/peers/src/workload.mjs)
// fed four ways, each in a fresh process, alternating, medians of events per wall second:
//   floor    the verifier alone (metaOf(i) handed straight to it): no store at all
//   storage  the partition log read at the storage layer (readRange + metadataUtf8): no Event, delivery or acks
//   api      a named consumer through the public API, as scripts/bench/peers-adapter.mjs consumes (metadataText,
//            an acknowledgement every 128 events, consumer opened and closed inside the timed region)
//   batches  the same consumer through processBatches (batch.metadataText(i), one acknowledgement per batch), as the
//            adapter consumes now
// The gap storage -> api is what the API layer costs; floor -> storage what the engine costs.
//   PEERS_DIR=<peers> node scripts/bench/peer-tools/api-ceiling.mjs [reps]     (run `npm run build` first)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../../..');
const PEERS = path.resolve(process.env.PEERS_DIR || path.join(ROOT, '../shared/peers'));
const [role, dir] = process.argv.slice(2);

async function child() {
  const { makeVerifier, metaOf, workload, makeData } = await import(pathToFileURL(path.join(PEERS, 'src/workload.mjs')).href);
  const w = workload('a');
  const lib = () => import(pathToFileURL(path.join(ROOT, 'dist/lib/index.js')).href);
  if (role === 'produce') {
    const { Driver } = await lib();
    const d = await Driver.create('files', { root_path: dir });
    await d.createTopic('t', { options: { num_partitions: 1 } });
    const p = (await d.openTopic('t')).producer({ batchSize: 128 });
    for (let i = 0; i < w.n; i++) p.push(metaOf(i));
    await p.close();
    await d.close();
    return;
  }
  const { st, sink } = makeVerifier(w, makeData(0).dataOf);
  let run;
  if (role === 'floor') {
    run = async () => {
      for (let i = 0; i < w.n; i++) sink(metaOf(i), null);
    };
  } else if (role === 'storage') {
    const { PartitionLog } = await import(pathToFileURL(path.join(ROOT, 'dist/storage/partition-log.js')).href);
    run = async () => {
      const log = PartitionLog.open(path.join(dir, 't/partitions/00000000'), 0, {});
      const end = log.refresh();
      for (let id = 0; id < end; ) {
        const recs = log.readRange(id, 128);
        for (const r of recs) sink(r.metadataUtf8(), null);
        id += recs.length;
      }
      log.close();
    };
  } else if (role === 'batches') {
    const { Driver } = await lib();
    const d = await Driver.create('files', { root_path: dir });
    const topic = await d.openTopic('t');
    run = async () => {
      const c = await topic.consumer(`c${process.pid}`, { batchSize: 128, until: 'end' });
      let last;
      await c.processBatches((b) => {
        for (let i = 0; i < b.length; i++) {
          const data = b.dataBytes(i);
          sink(b.metadataText(i), data.length === 0 ? null : data);
        }
        last = b.acknowledge();
      }, { maxEvents: w.n });
      await last;
      await c.close();
    };
  } else {
    const { Driver } = await lib();
    const d = await Driver.create('files', { root_path: dir });
    const topic = await d.openTopic('t');
    run = async () => {
      const c = await topic.consumer(`c${process.pid}`, { batchSize: 128, until: 'end' });
      let seen = 0;
      let last;
      await c.process((e) => {
        const dv = e.data;
        sink(e.metadataText, dv.size === 0 ? null : dv.segments[0]);
        seen++;
        if (seen % 128 === 0 || seen === w.n) last = e.acknowledge();
      }, { maxEvents: w.n });
      await last;
      await c.close();
    };
  }
  const t0 = performance.now();
  await run();
  const ms = performance.now() - t0;
  if (st.error || st.count !== w.n) throw new Error(st.error ?? `${st.count} of ${w.n} events`);
  console.log(`RESULT ${Math.round(w.n / (ms / 1000))}`);
}

function parent() {
  const reps = Number(role ?? 5);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'api-ceiling-'));
  const go = (r) => {
    const out = spawnSync(process.execPath, [fileURLToPath(import.meta.url), r, tmp], { encoding: 'utf8' });
    const line = out.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    if (out.status !== 0 || (r !== 'produce' && !line)) throw new Error(`${r}: ${out.stdout}${out.stderr}`);
    return line ? Number(line.slice(7)) : 0;
  };
  try {
    go('produce');
    const got = { floor: [], storage: [], api: [], batches: [] };
    for (let k = 0; k < reps; k++) for (const r of Object.keys(got)) got[r].push(go(r));
    const med = (xs) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];
    const m = Object.fromEntries(Object.entries(got).map(([r, xs]) => [r, med(xs)]));
    for (const [r, xs] of Object.entries(got)) console.log(r.padEnd(8), 'median', m[r], 'ev/s  runs', xs.join(' '));
    console.log(`storage / floor ${(m.storage / m.floor).toFixed(2)}, api / floor ${(m.api / m.floor).toFixed(2)}, batches / floor ${(m.batches / m.floor).toFixed(2)}, storage / api ${(m.storage / m.api).toFixed(2)}, storage / batches ${(m.storage / m.batches).toFixed(2)}`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

if (['produce', 'floor', 'storage', 'api', 'batches'].includes(role)) await child();
else parent();
