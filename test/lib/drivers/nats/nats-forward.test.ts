// `diaspora-ctl forward` (the built CLI) moves events from a local files topic to a NATS topic and back, data
// included, byte-identical, resuming across restarts of the forwarder: exactly once after a clean stop (SIGTERM),
// nothing lost after a crash (SIGKILL; a few events may then be forwarded twice, never out of order).
import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Driver, type JsonObject, type TopicHandle } from '../../../../lib/index.js';
import { writeForwardConfig } from '../../../scripts/cli/forward-config.js';
import { natsServerUnavailable, natsServerForFile } from './nats-server.js';
import { tempDir } from '../../../temp-dir.js';

const CTL = fileURLToPath(new URL('../../../../scripts/cli/diaspora-ctl.js', import.meta.url));
const unavailable = natsServerUnavailable() ?? (fs.existsSync(CTL) ? null : `the CLI is not built (${CTL})`);

/** Deterministic, varied payloads (0 to ~3 KiB, some empty). */
function payload(batch: string, i: number): Buffer {
  const size = i % 11 === 0 ? 0 : (i * 37) % 3000;
  const out = Buffer.alloc(size);
  let h = createHash('sha256').update(`${batch}:${i}`).digest();
  for (let pos = 0; pos < size; pos += h.length) {
    h.copy(out, pos);
    h = createHash('sha256').update(h).digest();
  }
  return out;
}

interface Copy {
  batch: string;
  i: number;
  data: string; // hex
}

async function readAll(topic: TopicHandle): Promise<Copy[]> {
  const c = await topic.consumer(`reader-${Date.now()}-${Math.random()}`, { from: 'earliest', until: 'end', durable: false });
  const out: Copy[] = [];
  for await (const e of c) {
    const md = e.metadata as JsonObject;
    out.push({ batch: md.batch as string, i: md.i as number, data: e.data.toBuffer().toString('hex') });
  }
  await c.close();
  return out;
}

async function count(topic: TopicHandle): Promise<number> {
  return (await topic.stats()).partitions.reduce((n, p) => n + p.events, 0);
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

class Forwarder {
  readonly proc: ChildProcess;
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  constructor(config: string) {
    this.proc = spawn(process.execPath, [CTL, 'forward', '--config', config, '--logging', 'error'], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc.stderr!.setEncoding('utf8').on('data', (c: string) => (this.stderr += c));
    this.exited = new Promise((resolve) => this.proc.once('exit', (code, signal) => resolve({ code, signal })));
  }
  async stop(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal);
    return this.exited;
  }
}

if (unavailable) {
  test.skip(`nats forward test skipped: ${unavailable}`, () => {});
} else {
  const server = natsServerForFile(test);

  test('nats: forward files -> nats -> files across SIGTERM and SIGKILL restarts, byte-identical, nothing lost', async (t) => {
    const dir = tempDir(t, 'diaspora-natsfwd-');
    const root = path.join(dir, 'root');
    const prefix = `fwd${process.pid}`;
    const local = await Driver.create('files', { root_path: root });
    const remote = await Driver.create('nats', { servers: server().url, prefix });
    const forwarders: Forwarder[] = [];
    try {
      await local.createTopic('source');
      await local.createTopic('back');
      await remote.createTopic('remote');
      const config = path.join(dir, 'forward.yaml');
      writeForwardConfig(config, {
        local: { type: 'files', options: { root_path: root } },
        far: { type: 'nats', options: { servers: server().url, prefix } },
      }, [['local/source', 'far/remote'], ['far/remote', 'local/back']]);
      const source = await local.openTopic('source');
      const back = await local.openTopic('back');
      const far = await remote.openTopic('remote');
      const expected: Copy[] = [];
      const produce = async (batch: string, n: number): Promise<void> => {
        const p = source.producer();
        for (let i = 0; i < n; i++) {
          const data = payload(batch, i);
          p.push({ batch, i }, data);
          expected.push({ batch, i, data: data.toString('hex') });
        }
        await p.flush();
        await p.close();
      };
      const start = (): Forwarder => {
        const f = new Forwarder(config);
        forwarders.push(f);
        return f;
      };

      // 1. Clean restart: exactly once.
      await produce('a', 300);
      let fwd = start();
      await waitUntil('batch a forwarded and back', async () => (await count(back)) >= 300);
      let end = await fwd.stop('SIGTERM');
      t.is(end.code, 0, fwd.stderr);
      await produce('b', 200); // while no forwarder runs
      fwd = start();
      await waitUntil('batch b forwarded and back', async () => (await count(back)) >= 500);
      end = await fwd.stop('SIGTERM');
      t.is(end.code, 0, fwd.stderr);
      t.deepEqual(await readAll(far), expected, 'nats copy is byte-identical, in order, exactly once');
      t.deepEqual(await readAll(back), expected, 'round trip is byte-identical, in order, exactly once');

      // 2. Crash while forwarding: nothing lost, duplicates only as a replay of the last unacknowledged events.
      fwd = start();
      await produce('c', 3000);
      await waitUntil('forwarding of batch c in progress', async () => (await count(far)) > 800);
      end = await fwd.stop('SIGKILL');
      t.is(end.signal, 'SIGKILL');
      fwd = start();
      await waitUntil('batch c forwarded and back', async () => {
        const got = await readAll(back);
        return new Set(got.map((c) => `${c.batch}:${c.i}`)).size >= expected.length;
      });
      end = await fwd.stop('SIGTERM');
      t.is(end.code, 0, fwd.stderr);
      for (const [label, topic] of [['nats', far], ['back', back]] as const) {
        const got = await readAll(topic);
        // Dropping repeats (a replay restarts at an earlier event and goes on in order) gives the source exactly.
        const seen = new Set<string>();
        const firsts = got.filter((c) => {
          const k = `${c.batch}:${c.i}`;
          if (seen.has(k)) return false;
          seen.add(k);
          return true;
        });
        t.deepEqual(firsts, expected, `${label}: every event, in order, byte-identical`);
        for (const c of got) t.is(c.data, expected.find((e) => e.batch === c.batch && e.i === c.i)!.data);
        t.log(`${label}: ${got.length - expected.length} event(s) forwarded twice after the SIGKILL`);
      }
    } finally {
      for (const f of forwarders) await f.stop('SIGKILL');
      await remote.close().catch(() => undefined);
      await local.close().catch(() => undefined);
    }
  });
}
