// Retention soak: a producer, a tailing named consumer and a trimmer, each its own process, on one files-driver
// topic with retention, for N minutes. Every interval it prints one line: disk use of the topic, and per process
// RSS, JS heap in use after a full GC (so that a leak is told apart from a heap the GC has not shrunk yet), open
// descriptors and mappings of segment files (from /proc), with the partition's first/end id and what the consumer
// received and lost. Disk, heap, fds and mappings must stay flat; ids keep growing.
// Run: npm run build && node dist/scripts/tools/retention-soak.js [--minutes 10] [--interval-s 10]
//        [--retention-bytes 67108864] [--retention-ms 0] [--segment-bytes 8388608] [--event-bytes 1024] [--rate 20000]
// (not part of npm test; Linux only, for /proc).

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Driver, type JsonObject } from '../../lib/index.js';

const TOPIC = 'soak';
const self = fileURLToPath(import.meta.url);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} must be a non-negative number`);
  return v;
}

async function openTopic(root: string, segmentBytes: number): Promise<{ driver: Driver; topic: Awaited<ReturnType<Driver['openTopic']>> }> {
  const driver = await Driver.create('files', { root_path: root, segment_bytes: segmentBytes });
  return { driver, topic: await driver.openTopic(TOPIC) };
}

/** Every role reports its JS heap in use after a full GC (the process runs with --expose-gc) every 5 s. */
function reportHeap(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  setInterval(() => {
    gc?.();
    process.stdout.write(`HEAP ${(process.memoryUsage().heapUsed / 1048576).toFixed(1)}\n`);
  }, 5000).unref();
}

/** Producer role: `rate` events per second of `eventBytes` bytes, in batches of 100, until killed. */
async function producer(root: string, segmentBytes: number, eventBytes: number, rate: number): Promise<void> {
  const { topic } = await openTopic(root, segmentBytes);
  const p = topic.producer();
  const data = Buffer.alloc(eventBytes, 7);
  const start = Date.now();
  for (let seq = 0; ; seq++) {
    void p.push({ seq }, data);
    if (seq % 100 === 99) {
      await p.flush();
      const ahead = (seq + 1) / rate * 1000 - (Date.now() - start);
      await sleep(Math.max(0, ahead));
    }
  }
}

/** Consumer role: reads and acknowledges everything (skipping what retention removed), printing its counters. */
async function consumer(root: string, segmentBytes: number): Promise<void> {
  const { topic } = await openTopic(root, segmentBytes);
  const c = await topic.consumer('soak-reader', { onTrimmed: 'earliest' });
  process.removeAllListeners('warning'); // skips are counted in lag(), not printed one by one
  let received = 0;
  let bytes = 0;
  setInterval(() => {
    void c.lag().then((lags) => {
      const lost = lags.reduce((n, l) => n + l.lostEvents, 0);
      process.stdout.write(`STAT ${received} ${lost} ${bytes}\n`);
    });
  }, 1000);
  for await (const e of c) {
    received++;
    bytes += e.data.size;
    void e.acknowledge();
  }
}

/** Trimmer role: topic.trim() every 500 ms. */
async function trimmer(root: string, segmentBytes: number): Promise<void> {
  const { topic } = await openTopic(root, segmentBytes);
  for (;;) {
    let removed = 0;
    for (const r of await topic.trim()) removed += r.removedEvents;
    if (removed > 0) process.stdout.write(`TRIM ${removed}\n`);
    await sleep(500);
  }
}

/** Disk blocks under `dir`; files removed while it looks (trimmed segments, lock generations) count as gone. */
function duBytes(dir: string): number {
  let n = 0;
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) n += duBytes(p);
    else if (e.isFile()) n += (fs.statSync(p, { throwIfNoEntry: false })?.blocks ?? 0) * 512;
  }
  return n;
}

/** RSS (MiB), descriptors, and mappings of segment files (live and deleted) of process `pid`. */
function procStats(pid: number, dir: string): string {
  try {
    const rss = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
    const fds = fs.readdirSync(`/proc/${pid}/fd`).length;
    const maps = fs.readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n').filter((l) => l.includes(dir));
    const deleted = maps.filter((l) => l.endsWith('(deleted)')).length;
    return `rss ${rss.toFixed(0)}M fds ${fds} maps ${maps.length} (deleted ${deleted})`;
  } catch {
    return 'gone';
  }
}

type Role = ChildProcess & { last: string; heap: string };

function start(role: string, args: string[]): Role {
  const child = spawn(process.execPath, ['--max-old-space-size=512', '--expose-gc', self, 'role', role, ...args], { stdio: ['ignore', 'pipe', 'inherit'] }) as Role;
  child.last = '';
  child.heap = '?';
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    partial += s;
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const l of lines) {
      if (l.startsWith('STAT')) child.last = l;
      else if (l.startsWith('HEAP ')) child.heap = l.slice(5);
    }
  });
  return child;
}

async function main(): Promise<void> {
  if (process.argv[2] === 'role') {
    const [role, root, seg, eventBytes, rate] = process.argv.slice(3);
    reportHeap();
    if (role === 'producer') return producer(root!, Number(seg), Number(eventBytes), Number(rate));
    if (role === 'consumer') return consumer(root!, Number(seg));
    return trimmer(root!, Number(seg));
  }
  const minutes = arg('minutes', 10);
  const intervalS = arg('interval-s', 10);
  const retentionBytes = arg('retention-bytes', 64 * 1024 * 1024);
  const retentionMs = arg('retention-ms', 0);
  const segmentBytes = arg('segment-bytes', 8 * 1024 * 1024);
  const eventBytes = arg('event-bytes', 1024);
  const rate = arg('rate', 20000);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'diaspora-retention-soak-'));
  const d = await Driver.create('files', { root_path: root, segment_bytes: segmentBytes });
  const options: JsonObject = { num_partitions: 1, retention_bytes: retentionBytes };
  if (retentionMs > 0) options.retention_ms = retentionMs;
  await d.createTopic(TOPIC, { options });
  const topic = await d.openTopic(TOPIC);
  const dir = path.join(root, TOPIC);
  console.log(`retention soak: ${minutes} min, ${rate} events/s of ${eventBytes} bytes, segments ${segmentBytes} bytes, retention ${JSON.stringify(await topic.retention())}, in ${root}`);
  const args = [root, String(segmentBytes), String(eventBytes), String(rate)];
  const kids = { producer: start('producer', args), consumer: start('consumer', args), trimmer: start('trimmer', args) };
  const t0 = Date.now();
  try {
    while (Date.now() - t0 < minutes * 60_000) {
      await sleep(intervalS * 1000);
      const [p] = (await topic.stats()).partitions;
      const [received, lost] = kids.consumer.last.split(' ').slice(1).map(Number);
      const line = [
        `t=${((Date.now() - t0) / 1000).toFixed(0)}s`,
        `disk ${(duBytes(dir) / 1048576).toFixed(1)}M`,
        `ids ${p!.firstId}..${p!.endId} (${p!.segments} segments)`,
        `consumer got ${received ?? 0} lost ${lost ?? 0}`,
        ...Object.entries(kids).map(([name, k]) => `${name}: ${procStats(k.pid!, dir)} heap ${k.heap}M`),
      ];
      console.log(line.join(' | '));
    }
  } finally {
    for (const k of Object.values(kids)) k.kill('SIGKILL');
    await d.close();
    fs.rmSync(root, { recursive: true, force: true });
  }
}

await main();
