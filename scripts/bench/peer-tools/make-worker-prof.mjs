// Writes worker-prof.mjs next to the peer harness' worker.mjs: the same worker, plus, around the timed
// produce()/consume() call only, a CPU profile (PROF_OUT=<prefix>; PROF_HEAP=1: a sampling heap profile instead)
// and the CPU time of the timed region (`timedCpuMs` in its RESULT line). The harness itself is not changed.
//   PEERS_DIR=<peers> node scripts/bench/peer-tools/make-worker-prof.mjs
import fs from 'node:fs';
import path from 'node:path';

const src = path.join(path.resolve(process.env.PEERS_DIR || '../shared/peers'), 'src');
let s = fs.readFileSync(path.join(src, 'worker.mjs'), 'utf8');
const hooks = `
import inspector from 'node:inspector';
import fsP from 'node:fs';
const sess = new inspector.Session();
sess.connect();
const post = (m, p) => new Promise((r, j) => sess.post(m, p, (e, v) => (e ? j(e) : r(v))));
const profOut = process.env.PROF_OUT;
const heap = !!process.env.PROF_HEAP;
let cpu0;
let timedCpu = 0;
async function pstart() {
  cpu0 = process.cpuUsage();
  if (!profOut) return;
  if (heap) {
    await post('HeapProfiler.enable');
    await post('HeapProfiler.startSampling', { samplingInterval: 256, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  } else {
    await post('Profiler.enable');
    await post('Profiler.setSamplingInterval', { interval: 100 });
    await post('Profiler.start');
  }
}
async function pstop(phase) {
  const cu = process.cpuUsage(cpu0);
  timedCpu = (cu.user + cu.system) / 1000;
  if (!profOut) return;
  const { profile } = await post(heap ? 'HeapProfiler.stopSampling' : 'Profiler.stop');
  fsP.writeFileSync(\`\${profOut}.\${phase}.\${heap ? 'heapprofile' : 'cpuprofile'}\`, JSON.stringify(profile));
}
`;
const edits = [
  ["import { performance } from 'node:perf_hooks';", "import { performance } from 'node:perf_hooks';" + hooks],
  ['    const t0 = wallMs();\n    await store.produce(', "    await pstart();\n    const t0 = wallMs();\n    await store.produce("],
  ["    res = { role: 'produce',", "    await pstop('produce');\n    res = { role: 'produce',"],
  ['    const t0 = wallMs();\n    await store.consume(', '    await pstart();\n    const t0 = wallMs();\n    await store.consume('],
  ['    const t1 = wallMs();\n    res = {\n', "    const t1 = wallMs();\n    await pstop(job.select ? 'select' : 'consume');\n    res = {\n"],
  ['  res.maxRssKiB = ru.maxRSS;', '  res.maxRssKiB = ru.maxRSS;\n  res.timedCpuMs = timedCpu;'],
];
for (const [from, to] of edits) {
  if (!s.includes(from)) throw new Error(`worker.mjs changed: cannot find ${JSON.stringify(from)}`);
  s = s.replace(from, to);
}
fs.writeFileSync(path.join(src, 'worker-prof.mjs'), s);
console.log(`wrote ${path.join(src, 'worker-prof.mjs')}`);
