// Reference-format partitions shared by processes: live waiting, concurrent appenders, a killed writer.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ReferenceTopicStore } from '../../../storage/reference/reference-topic-store.js';
import { exitOf } from '../helpers.js';
import { tempDir } from '../../temp-dir.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const APPENDER = path.join(here, 'fixtures-bin', 'reference-appender.js');

function startAppender(root: string, topic: string, tag: string, count: number, batch: number, delayMs = 0): ChildProcess {
  return spawn(process.execPath, [APPENDER, root, topic, tag, String(count), String(batch), String(delayMs)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

/** Exit code of the child, also when it has already exited (a fast child can be gone before we ask). */
async function exited(child: ChildProcess): Promise<number | null> {
  return (await exitOf(child)).code;
}

interface Decoded {
  tag: string;
  seq: number;
}

test('a reader in this process wakes up for appends made by another process', async (t) => {
  const dir = tempDir(t);
  try {
    const root = path.join(dir, 'root');
    ReferenceTopicStore.create(root, 'live', { numPartitions: 1 }).close();
    const reader = ReferenceTopicStore.open(root, 'live');
    const log = reader.partition(0);
    t.false(await log.waitForAppend(0, 20), 'nothing yet: times out');
    const child = startAppender(root, 'live', 'w', 30, 3, 5);
    let seen = 0;
    while (seen < 30) {
      t.true(await log.waitForAppend(seen, 60_000));
      seen = log.endId;
    }
    t.is(await exited(child), 0);
    const events = log.readRange(0, 100);
    t.deepEqual(events.map((e) => (JSON.parse(Buffer.from(e.metadata).toString()) as Decoded).seq), Array.from({ length: 30 }, (_, i) => i));
    // An abort ends a wait at once.
    const ac = new AbortController();
    const pending = log.waitForAppend(30, 60_000, ac.signal);
    ac.abort();
    t.false(await pending);
    reader.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('three processes appending to one partition get dense ids, each in its own order, all intact', async (t) => {
  const dir = tempDir(t);
  try {
    const root = path.join(dir, 'root');
    ReferenceTopicStore.create(root, 'shared', { numPartitions: 1 }).close();
    const children = ['a', 'b', 'c'].map((tag, i) => startAppender(root, 'shared', tag, 400, 1 + i * 7));
    t.deepEqual(await Promise.all(children.map(exited)), [0, 0, 0]);
    const store = ReferenceTopicStore.open(root, 'shared');
    const log = store.partition(0);
    t.is(log.endId, 1200);
    t.deepEqual(log.verify(), []);
    const seqs: Record<string, number[]> = { a: [], b: [], c: [] };
    log.readRange(0, 2000).forEach((e, i) => {
      t.is(e.id, i);
      const m = JSON.parse(Buffer.from(e.metadata).toString()) as Decoded;
      seqs[m.tag]!.push(m.seq);
      const data = e.data();
      t.is(data.length, m.seq % 200);
      t.true(data.every((b) => b === (m.seq & 0xff)));
    });
    for (const tag of ['a', 'b', 'c']) t.deepEqual(seqs[tag], Array.from({ length: 400 }, (_, i) => i));
    store.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a writer killed with SIGKILL mid-appends leaves a partition that opens, keeps every returned append, and accepts more', async (t) => {
  const dir = tempDir(t);
  try {
    const root = path.join(dir, 'root');
    ReferenceTopicStore.create(root, 'crash', { numPartitions: 1 }).close();
    const child = startAppender(root, 'crash', 'k', 1_000_000, 50);
    let returned = 0;
    let buffered = '';
    await new Promise<void>((resolve) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop()!;
        for (const line of lines) {
          const m = /^id (\d+) (\d+)$/.exec(line);
          if (m !== null) returned = Math.max(returned, Number(m[1]) + Number(m[2]));
        }
        if (returned >= 5000) {
          child.kill('SIGKILL');
          resolve();
        }
      });
    });
    await exited(child);
    // The dead writer's lock is reclaimed once stale; opening with "always" repairs without waiting for idleness.
    const store = ReferenceTopicStore.open(root, 'crash', { repairOnOpen: 'always', lockStaleMs: 2000 });
    const log = store.partition(0);
    t.true(log.endId >= returned, `${log.endId} >= ${returned}`);
    const events = log.readRange(0, log.endId);
    events.forEach((e, i) => t.is((JSON.parse(Buffer.from(e.metadata).toString()) as Decoded).seq, i));
    const r = log.append([{ metadata: new TextEncoder().encode('"after"') }]);
    t.is(r.firstId, events.length);
    t.deepEqual(log.verify(), []);
    store.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
