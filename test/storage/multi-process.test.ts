import test, { type ExecutionContext } from 'ava';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PartitionLog } from '../../storage/partition-log.js';
import { WRITER_LOCK_FOLDER } from '../../storage/writer-lock.js';
import { GenerationLock } from '../../storage/generation-lock.js';
import { forkBin, exitOf, nextMessage, payload, metaOf } from './helpers.js';
import { tempDir } from '../temp-dir.js';

interface Done {
  type: 'done';
  p: number;
  firstIds: [number, number][];
}

test('4 processes appending 5,000 events each get 20,000 dense ids, every event intact and in order', async (t) => {
  const dir = tempDir(t);
  PartitionLog.open(dir, 0).close();
  const children = [0, 1, 2, 3].map((p) => forkBin(t, 'append-worker', [dir, String(p), '5000']));
  const reports = await Promise.all(children.map((c) => nextMessage<Done>(c, (m) => m.type === 'done')));
  const exits = await Promise.all(children.map(exitOf));
  t.deepEqual(exits.map((e) => e.code), [0, 0, 0, 0]);

  // The ids handed out are exactly 0..19999, each once.
  const owner = new Int32Array(20_000).fill(-1);
  for (const r of reports) {
    for (const [firstId, count] of r.firstIds) {
      for (let id = firstId; id < firstId + count; id++) {
        if (id >= 20_000 || owner[id] !== -1) t.fail(`id ${id} assigned twice or out of range`);
        owner[id] = r.p;
      }
    }
  }
  t.false(owner.includes(-1));

  const log = PartitionLog.open(dir, 0);
  t.teardown(() => log.close());
  t.is(log.endId, 20_000);
  const nextOf = [0, 0, 0, 0];
  let bad = 0;
  for (const ev of log.readRange(0, 20_000)) {
    const { p, i } = JSON.parse(Buffer.from(ev.metadata).toString()) as { p: number; i: number };
    if (owner[ev.id] !== p || i !== nextOf[p] || !Buffer.from(ev.data()).equals(payload(p, i, (i * 17 + p) % 300))) bad++;
    nextOf[p]!++;
  }
  t.is(bad, 0, 'every event has its producer, its place in that producer order, and its bytes');
  t.deepEqual(nextOf, [5000, 5000, 5000, 5000]);
  t.deepEqual(log.verify(), []);
});

/** A reader-worker child tailing `dir` up to `total`, ready: the errors it reports, and its 'done' message. */
async function liveReader(t: ExecutionContext, dir: string, total: number): Promise<{ reader: ChildProcess; errors: string[]; done: Promise<unknown> }> {
  const reader = forkBin(t, 'reader-worker', [dir, String(total)]);
  const errors: string[] = [];
  reader.on('message', (m: { type: string; message?: string }) => {
    if (m.type === 'error') errors.push(m.message!);
  });
  await nextMessage(reader, (m: { type: string }) => m.type === 'ready');
  return { reader, errors, done: nextMessage(reader, (m: { type: string }) => m.type === 'done') };
}

test('a reader in another process sees new commits live', async (t) => {
  const dir = tempDir(t);
  const log = PartitionLog.open(dir, 0, { segmentBytes: 8192 });
  t.teardown(() => log.close());
  const total = 300;
  const { reader, errors, done } = await liveReader(t, dir, total);
  // One small batch at a time; the next one only after the reader has seen the previous (so it waits each time).
  for (let id = 0; id < total; ) {
    const size = 1 + (id % 7);
    const batch = [];
    for (let i = id; i < Math.min(total, id + size); i++) batch.push({ metadata: metaOf(0, i), data: payload(0, i, i % 100) });
    const target = id + batch.length;
    const seen = nextMessage<{ type: string; end: number }>(reader, (m) => m.type === 'seen' && m.end >= target);
    log.append(batch);
    await seen;
    id = target;
  }
  await done;
  t.deepEqual(errors, []);
  t.is((await exitOf(reader)).code, 0);
});

test('a reader in another process counting and reading while batches larger than its index window are written: every event, intact, in order', async (t) => {
  const dir = tempDir(t);
  const log = PartitionLog.open(dir, 0);
  t.teardown(() => log.close());
  // Batches of 12,000 (more than a reader's 8,192-entry window: its count scan and reads race a long index write)
  // mixed with small ones, written without waiting for the reader.
  const sizes = [12_000, 3, 12_000, 1, 9_000, 12_000, 7, 12_000];
  const total = sizes.reduce((a, b) => a + b, 0);
  const { reader, errors, done } = await liveReader(t, dir, total);
  let id = 0;
  for (const size of sizes) {
    const batch = [];
    for (let i = id; i < id + size; i++) batch.push({ metadata: metaOf(0, i), data: payload(0, i, i % 100) });
    t.deepEqual(log.append(batch), { firstId: id, count: size });
    id += size;
    await new Promise((r) => setTimeout(r, 2));
  }
  await done;
  t.deepEqual(errors, []);
  t.is((await exitOf(reader)).code, 0);
});

test('waitForAppend wakes on a commit made by another process', async (t) => {
  const dir = tempDir(t);
  const log = PartitionLog.open(dir, 0);
  t.teardown(() => log.close());
  const writer = forkBin(t, 'append-worker', [dir, '0', '50']);
  t.true(await log.waitForAppend(0, 60_000));
  t.true(log.endId > 0);
  await nextMessage(writer, (m: { type: string }) => m.type === 'done');
  while (log.endId < 50) t.true(await log.waitForAppend(log.endId, 60_000));
  t.deepEqual(Buffer.from(log.read(49).metadata), metaOf(0, 49));
});

for (const flushBehavior of ['buffered', 'on_flush', 'immediate'] as const) test(`a writer killed with SIGKILL mid-append (${flushBehavior}) leaves a partition that opens, keeps every returned append, and accepts new ones after its torn tail is cut (not CORRUPTION)`, async (t) => {
  const dir = tempDir(t);
  const acksFile = `${dir}.acks`;
  t.teardown(() => fs.rmSync(acksFile, { force: true }));
  for (const [p, killAfterMs] of [[1, 100], [2, 300]] as const) {
    fs.rmSync(acksFile, { force: true });
    const writer = forkBin(t, 'append-worker', [dir, String(p), 'forever', String(4 * 1024 * 1024), flushBehavior]);
    await nextMessage(writer, (m: { type: string }) => m.type === 'ready');
    // Kill only after some appends returned (fsyncs under load can make the first one slow).
    for (let waited = 0; !(fs.existsSync(acksFile) && fs.statSync(acksFile).size > 0) && waited < 30_000; waited += 10) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await new Promise((resolve) => setTimeout(resolve, killAfterMs));
    writer.kill('SIGKILL');
    t.is((await exitOf(writer)).signal, 'SIGKILL');
    // Complete lines of the ack file are appends that returned before the kill.
    const acked = fs.readFileSync(acksFile, 'utf8').split('\n').filter((l) => l.length > 0).map((l) => {
      const [firstId, count, from] = l.split(' ').map(Number);
      return { firstId: firstId!, count: count!, from: from! };
    });
    t.true(acked.length > 0);

    const log = PartitionLog.open(dir, 0, { lockStaleMs: 2000, flushBehavior });
    const last = acked[acked.length - 1]!;
    t.true(log.endId >= last.firstId + last.count, 'every append that returned is still there');
    for (const a of acked) {
      for (let k = 0; k < a.count; k++) {
        const i = a.from + k;
        const ev = log.read(a.firstId + k);
        if (!Buffer.from(ev.metadata).equals(metaOf(p, i)) || !Buffer.from(ev.data()).equals(payload(p, i, (i * 7919) % 200_000))) {
          t.fail(`event ${a.firstId + k} differs after the crash`);
        }
      }
    }
    // The dead writer's lock is reclaimed once stale; the new writer cuts any torn tail and goes on densely.
    const end = log.endId;
    t.deepEqual(log.append([{ metadata: metaOf(9, 0) }]), { firstId: end, count: 1 });
    const r = log.recovery;
    if (r !== null && r.droppedEntries + r.droppedBytes > 0) {
      t.true(r.truncated);
      t.is(r.partition, 0);
      if (r.droppedEntries > 0) t.is(r.firstCutId, end, 'only ids never handed out were cut');
    }
    t.deepEqual(Buffer.from(log.read(end).metadata), metaOf(9, 0));
    t.deepEqual(log.verify(), []);
    log.close();
    t.is(new GenerationLock(path.join(dir, WRITER_LOCK_FOLDER)).current()?.record?.state, 'free', 'close() released the lock');
  }
});
