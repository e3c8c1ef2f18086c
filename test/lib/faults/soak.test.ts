// Soak: 4 processes on one topic for DIASPORA_SOAK_MS (default 60000, as the issue asks):
// 2 producers and 2 consumers with distinct names, all live at once. Totals exact: each consumer sees every produced
// event exactly once, ids dense per partition, every byte as produced.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { Driver } from '../../../lib/index.js';
import { startChild } from '../child.js';
import { tempRoot } from './torn-tail.js';

const SOAK_MS = Number(process.env.DIASPORA_SOAK_MS ?? 60_000);

interface Summary {
  events: number;
  duplicates: number;
  badBytes: number;
  gaps: number;
  perProducer: Record<string, { count: number; max: number }>;
  ends: Record<string, number>;
}

test(`soak: 2 producers and 2 consumers in 4 processes for ${SOAK_MS} ms, totals exact`, async (t) => {
  t.timeout(SOAK_MS + 120_000);
  const root = tempRoot(t, 'diaspora-soak-');
  const d = await Driver.create('files', { root_path: root });
  await d.createTopic('soak', { options: { num_partitions: 2 } });
  await d.close();
  const expectedFile = path.join(root, 'expected');
  const consumers = ['a', 'b'].map((name) => startChild('soak-consumer.js', [root, 'soak', name, expectedFile]));
  t.teardown(() => {
    for (const c of consumers) c.proc.kill('SIGKILL');
  });
  await Promise.all(consumers.map((c) => c.waitFor(/^READY/)));
  const producers = [0, 1].map((p) => startChild('soak-producer.js', [root, 'soak', String(p), String(SOAK_MS)]));
  const produced = await Promise.all(producers.map(async (p) => Number((await p.waitFor(/^PRODUCED/, SOAK_MS + 60_000)).split(' ')[1])));
  for (const p of producers) t.is((await p.exited).code, 0, p.stderr());
  const total = produced[0]! + produced[1]!;
  fs.writeFileSync(expectedFile, String(total));
  const summaries = await Promise.all(
    consumers.map(async (c) => JSON.parse((await c.waitFor(/^SUMMARY /, 90_000)).slice('SUMMARY '.length)) as Summary),
  );
  t.log(`produced ${produced.join(' + ')} = ${total} events in ${SOAK_MS} ms`);
  t.true(total > 1000, 'the producers made progress');
  for (const [k, s] of summaries.entries()) {
    const who = `consumer ${['a', 'b'][k]}`;
    t.is(s.events, total, `${who}: every event once`);
    t.is(s.duplicates, 0, `${who}: no duplicates`);
    t.is(s.gaps, 0, `${who}: ids dense per partition`);
    t.is(s.badBytes, 0, `${who}: every byte as produced`);
    for (const p of [0, 1]) t.deepEqual(s.perProducer[p], { count: produced[p], max: produced[p]! - 1 }, `${who}: all of producer ${p}`);
    t.is((s.ends['0'] ?? 0) + (s.ends['1'] ?? 0), total, `${who}: partition ends add up`);
  }
  for (const c of consumers) t.is((await c.exited).code, 0, c.stderr());
  // Both names acknowledged everything: nothing pending.
  const check = await Driver.create('files', { root_path: root });
  const positions = await check.listConsumers('soak');
  await check.close();
  for (const c of positions) {
    const acked = c.partitions.reduce((n, p) => n + (p.lastAcknowledged ?? -1) + 1, 0);
    t.is(acked, total, `consumer ${c.name} acknowledged every event`);
  }
});
