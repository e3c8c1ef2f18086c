// Real processes on one topic: a live producer and consumer, an idle consumer's CPU use, a consumer killed with
// SIGKILL 100 times, and a three-stage pipeline whose middle stage is killed and restarted.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { Driver } from '../../lib/index.js';
import { startChild } from './child.js';
import { tempDir } from '../temp-dir.js';

function tempRoot(t: { teardown(fn: () => void): void }): string {
  const root = tempDir(t, 'diaspora-mp-');
  return root;
}

async function makeTopics(root: string, topics: Array<[string, number]>): Promise<void> {
  const d = await Driver.create('files', { root_path: root });
  for (const [name, n] of topics) await d.createTopic(name, { options: { num_partitions: n } });
  await d.close();
}

test('producer and consumer in two processes: every event once, in order per partition, live; idle consumer uses no CPU', async (t) => {
  const root = tempRoot(t);
  await makeTopics(root, [['live', 2]]);
  const count = 3000;
  const consumer = startChild('live-consumer.js', [root, 'live', 'reader', String(count), '1500']);
  await consumer.waitFor(/^READY/);
  const idle = await consumer.waitFor(/^IDLE_CPU_MS/);
  const cpuMs = Number(idle.split(' ')[1]);
  t.log(`idle consumer used ${cpuMs} ms of CPU in 1500 ms`);
  t.true(cpuMs < 100, `idle consumer used ${cpuMs} ms CPU while waiting 1500 ms`);
  const producer = startChild('live-producer.js', [root, 'live', String(count)]);
  const producedLine = await producer.waitFor(/^PRODUCED/);
  const producedAt = Number(producedLine.split(' ')[1]);
  await consumer.waitFor(/^DONE/);
  t.is((await consumer.exited).code, 0);
  const events = consumer.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { p: number; id: number; seq: number; t: number });
  t.is(events.length, count);
  t.deepEqual([...new Set(events.map((e) => e.seq))].sort((a, b) => a - b), Array.from({ length: count }, (_, i) => i));
  for (const p of [0, 1]) {
    const ids = events.filter((e) => e.p === p).map((e) => e.id);
    t.deepEqual(ids, Array.from({ length: ids.length }, (_, i) => i), `partition ${p} in id order`);
  }
  t.true(events[0].t < producedAt, 'the first events arrived while the producer was still running');
});

test('a consumer killed with SIGKILL 100 times: nothing skipped, duplicates only after the last acknowledgement', async (t) => {
  const root = tempRoot(t);
  await makeTopics(root, [['crash', 2]]);
  const total = 3000;
  const d = await Driver.create('files', { root_path: root });
  const producer = (await d.openTopic('crash')).producer();
  for (let i = 0; i < total; i++) producer.push({ i });
  await producer.flush();
  await d.close();
  const perPartition = [total / 2, total / 2];
  const log = path.join(root, 'log');
  fs.writeFileSync(log, '');
  const runs: string[][] = [];
  let killed = 0;
  let offset = 0;
  const readNewLines = (): string[] => {
    const all = fs.readFileSync(log, 'utf8');
    const fresh = all.slice(offset);
    offset = all.length;
    return fresh.split('\n').filter(Boolean);
  };
  for (let run = 0; ; run++) {
    const child = startChild('ack-consumer.js', [root, 'crash', 'crashy', log]);
    if (killed < 100) {
      await child.waitFor(/^READY/);
      await new Promise((r) => setTimeout(r, Math.random() * 40));
      child.proc.kill('SIGKILL');
      await child.exited;
      killed++;
      runs.push(readNewLines());
      continue;
    }
    await child.waitFor(/^DONE/, 120_000);
    t.is((await child.exited).code, 0);
    runs.push(readNewLines());
    break;
  }
  // Replay the runs: each run must start right after the last acknowledgement seen so far (or later, never
  // after an unprocessed event), and process ids consecutively.
  const lastAck = [-1, -1];
  const maxProcessed = [-1, -1];
  const processedCount = new Map<string, number>();
  let duplicates = 0;
  for (const lines of runs) {
    const firstInRun: Array<number | undefined> = [undefined, undefined];
    const prev: number[] = [-2, -2];
    for (const line of lines) {
      const [kind, ps, ids] = line.split(' ');
      const p = Number(ps);
      const id = Number(ids);
      if (kind === 'P') {
        if (firstInRun[p] === undefined) {
          firstInRun[p] = id;
          t.true(id > lastAck[p], `run restarted at ${id} although ${lastAck[p]} was acknowledged (p${p})`);
          t.true(id <= maxProcessed[p] + 1, `run skipped from ${maxProcessed[p]} to ${id} (p${p})`);
        } else {
          t.is(id, prev[p] + 1, 'ids consecutive within a run');
        }
        prev[p] = id;
        const key = `${p}:${id}`;
        if (processedCount.has(key)) duplicates++;
        processedCount.set(key, (processedCount.get(key) ?? 0) + 1);
        maxProcessed[p] = Math.max(maxProcessed[p], id);
      } else {
        lastAck[p] = Math.max(lastAck[p], id);
      }
    }
  }
  const missing: string[] = [];
  for (const p of [0, 1]) for (let id = 0; id < perPartition[p]; id++) if (!processedCount.has(`${p}:${id}`)) missing.push(`${p}:${id}`);
  t.deepEqual(missing, [], 'every event processed at least once');
  t.log(`${killed} kills, ${processedCount.size} events, ${duplicates} duplicate deliveries (all after the last acknowledgement)`);
  t.is(processedCount.size, total);
});

test('three-stage pipeline across processes: every event arrives once, in order, across a SIGKILL of the middle stage', async (t) => {
  const root = tempRoot(t);
  await makeTopics(root, [
    ['raw', 2],
    ['cooked', 2],
  ]);
  const count = 2000;
  const final = startChild('pipeline-stage.js', ['final', root, String(count)]);
  await final.waitFor(/^READY/);
  let transformer = startChild('pipeline-stage.js', ['transform', root]);
  await transformer.waitFor(/^READY/);
  const producer = startChild('pipeline-stage.js', ['produce', root, String(count)]);
  // Kill the transformer once events are flowing through it, then start a new one.
  await final.waitFor(/"seq":(2\d\d|[3-9]\d\d)\b/, 60_000);
  transformer.proc.kill('SIGKILL');
  await transformer.exited;
  transformer = startChild('pipeline-stage.js', ['transform', root]);
  await transformer.waitFor(/^READY/);
  await producer.waitFor(/^PRODUCED/);
  await final.waitFor(/^FINAL/, 120_000);
  transformer.proc.kill('SIGTERM');
  t.is((await transformer.exited).code, 0);
  const events = final.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { p: number; id: number; seq: number; doubled: number });
  t.is(events.length, count);
  t.deepEqual(events.map((e) => e.seq).sort((a, b) => a - b), Array.from({ length: count }, (_, i) => i));
  for (const p of [0, 1]) {
    const seqs = events.filter((e) => e.p === p).map((e) => e.seq);
    t.deepEqual(seqs, [...seqs].sort((a, b) => a - b), `partition ${p} keeps order`);
    t.true(seqs.every((s) => s % 2 === p));
  }
  t.true(events.every((e) => e.doubled === e.seq * 2));
});

test('exclusivity across processes: CONSUMER_BUSY while another process holds the name; a standby takes over on SIGTERM and on SIGKILL', async (t) => {
  const root = tempRoot(t);
  await makeTopics(root, [['shared', 2]]);
  const d = await Driver.create('files', { root_path: root });
  t.teardown(() => d.close());
  const topic = await d.openTopic('shared');
  const producer = topic.producer();
  for (let i = 0; i < 4; i++) await producer.push({ i });
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    const holder = startChild('claim-holder.js', [root, 'shared', `worker-${signal}`]);
    t.teardown(() => holder.proc.kill('SIGKILL'));
    await holder.waitFor(/^READY/);
    const busy = await t.throwsAsync(topic.consumer(`worker-${signal}`));
    t.is((busy as { code?: string }).code, 'CONSUMER_BUSY');
    const standby = await topic.consumer(`worker-${signal}`, { standby: true, until: 'end' });
    const first = standby.pull();
    t.is(await first.wait(300), undefined, 'nothing is delivered while the other process holds the partitions');
    holder.proc.kill(signal);
    const e = await first.wait(10_000);
    t.truthy(e, `standby took over after ${signal}`);
    const ids = [e!.id];
    for await (const ev of standby) ids.push(ev.id);
    t.is(ids.length, 4);
    await standby.close();
  }
});
