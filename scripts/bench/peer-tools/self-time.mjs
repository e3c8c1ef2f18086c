// Self time of a .cpuprofile (node --cpu-prof, or phase-ab.mjs with PROF_OUT), largest first:
//   node scripts/bench/peer-tools/self-time.mjs <file.cpuprofile> [top]
import fs from 'node:fs';
const p = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const top = +(process.argv[3] || 30);
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const self = new Map();
const dt = p.timeDeltas; let total = 0;
for (let i = 0; i < p.samples.length; i++) { const n = byId.get(p.samples[i]); const d = dt[i] || 0; total += d;
  const cf = n.callFrame; const k = `${cf.functionName || '(anon)'} ${cf.url.replace(/.*\/(main|wt\/\w+|peers)\//, '')}:${cf.lineNumber + 1}`;
  self.set(k, (self.get(k) || 0) + d); }
[...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).forEach(([k, v]) => console.log((100 * v / total).toFixed(1).padStart(5), '%', (v / 1000).toFixed(1).padStart(7), 'ms', k));
console.log('total', (total / 1000).toFixed(0), 'ms');
