// A consumer on a 2-thread pool in a real child process, SIGKILLed mid-run and restarted: every event is processed,
// each restart begins right after the last stored acknowledgement (no gap, so duplicates only after it), events of a
// partition run in id order, and the last run ends with the process exiting by itself (no leaked worker threads).
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { Driver } from '../../lib/index.js';
import { startChild } from './child.js';
import { tempDir } from '../temp-dir.js';

const PARTITIONS = 4;
const PER_PARTITION = 250;

test('threaded consumer killed mid-run and restarted: no event skipped, duplicates only after the last acknowledgement', async (t) => {
  const root = tempDir(t, 'diaspora-thread-crash-');
  const log = path.join(root, 'processed.log');
  const driver = await Driver.create('files', { root_path: root });
  t.teardown(() => driver.close());
  await driver.createTopic('t', { options: { num_partitions: PARTITIONS } });
  const topic = await driver.openTopic('t');
  const producer = topic.producer();
  for (let i = 0; i < PER_PARTITION; i++) for (let p = 0; p < PARTITIONS; p++) producer.push({ i, delay: 1 }, Buffer.from([i & 255]), p);
  await producer.flush();

  let offset = 0;
  const newLines = (): Array<[number, number]> => {
    const all = fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '';
    const end = all.lastIndexOf('\n') + 1;
    const fresh = all.slice(offset, end);
    offset = end;
    return fresh
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const f = l.split(' ');
        return [Number(f[2]), Number(f[3])];
      });
  };
  const committed = async (): Promise<number[]> => {
    const out = Array.from({ length: PARTITIONS }, () => -1);
    const c = (await driver.listConsumers('t')).find((x) => x.name === 'crashy');
    for (const p of c?.partitions ?? []) out[p.partition] = p.lastAcknowledged ?? -1;
    return out;
  };

  const processed = new Map<string, number>();
  let lastCommitted = Array.from({ length: PARTITIONS }, () => -1);
  let kills = 0;
  for (let run = 0; ; run++) {
    const child = startChild('threaded-consumer.js', [root, 't', 'crashy', log]);
    await child.waitFor(/^READY/);
    const finalRun = run === 3;
    if (!finalRun) {
      // Kill once the run is under way.
      const size0 = fs.existsSync(log) ? fs.statSync(log).size : 0;
      while ((fs.existsSync(log) ? fs.statSync(log).size : 0) < size0 + 40 * 20 && child.proc.exitCode === null) {
        await new Promise((r) => setTimeout(r, 5));
      }
      await new Promise((r) => setTimeout(r, Math.random() * 30));
      child.proc.kill('SIGKILL');
      const { signal } = await child.exited;
      if (signal === 'SIGKILL') kills++;
    } else {
      await child.waitFor(/^DONE/, 60_000);
      t.is((await child.exited).code, 0, 'the process exits by itself once the consumer is closed');
    }
    // Replay this run's lines against what was acknowledged before it started.
    const first = Array.from({ length: PARTITIONS }, () => undefined as number | undefined);
    const prev = Array.from({ length: PARTITIONS }, () => -1);
    for (const [p, id] of newLines()) {
      if (first[p] === undefined) {
        first[p] = id;
        t.is(id, lastCommitted[p] + 1, `run ${run} partition ${p} restarts right after its last acknowledgement`);
      } else t.is(id, prev[p] + 1, `run ${run} partition ${p}: ids in order`);
      prev[p] = id;
      processed.set(`${p}:${id}`, (processed.get(`${p}:${id}`) ?? 0) + 1);
    }
    const now = await committed();
    for (let p = 0; p < PARTITIONS; p++) {
      for (let id = 0; id <= now[p]; id++) t.true(processed.has(`${p}:${id}`), `acknowledged ${p}:${id} was processed`);
    }
    lastCommitted = now;
    if (finalRun) break;
  }
  const missing: string[] = [];
  for (let p = 0; p < PARTITIONS; p++) for (let id = 0; id < PER_PARTITION; id++) if (!processed.has(`${p}:${id}`)) missing.push(`${p}:${id}`);
  t.deepEqual(missing, []);
  t.deepEqual(lastCommitted, Array.from({ length: PARTITIONS }, () => PER_PARTITION - 1));
  const duplicates = [...processed.values()].filter((n) => n > 1).length;
  t.log(`${kills} kills, ${duplicates} events processed twice (all after the acknowledgement stored at the kill)`);
  t.true(kills >= 1);
});
