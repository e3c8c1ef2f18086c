// Disk full: a topic on a 2 MiB tmpfs is pushed to until the disk is full. The failing push rejects with IO
// (ENOSPC), readers never see a partial event, nothing committed is lost, and once space is freed the topic opens
// and appends go on with dense ids. Needs root (mount); skipped with the reason otherwise.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DiasporaError, Driver, ErrorCode } from '../../../lib/index.js';
import { payload } from '../../storage/helpers.js';
import { ownedTempDir } from '../../temp-dir.js';

const mount = ownedTempDir('diaspora-diskfull-');
const mountDir = mount.path;
let skipReason: string | null = null;
if (process.getuid?.() !== 0) skipReason = 'not running as root: cannot mount a small tmpfs';
else {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mountDir], { stdio: 'pipe' });
  } catch (err) {
    skipReason = `mount -t tmpfs is not allowed here: ${(err as Error).message.split('\n')[0]}`;
  }
}

test.after.always(() => {
  // Lazy: mappings of the topic's files may outlive the closed driver until they are garbage-collected.
  if (skipReason === null) execFileSync('umount', ['-l', mountDir], { stdio: 'pipe' });
  mount.remove();
});

const DATA = 3000;

async function readAll(root: string): Promise<Array<{ id: number; i: number; ok: boolean }>> {
  const d = await Driver.create('files', { root_path: root });
  try {
    const topic = await d.openTopic('full');
    const reader = await topic.consumer('reader', { durable: false, until: 'end' });
    const out: Array<{ id: number; i: number; ok: boolean }> = [];
    await reader.process((e) => {
      const i = (e.metadata as { i: number }).i;
      const data = e.data.toBuffer();
      out.push({ id: e.id, i, ok: data.equals(payload(0, i, DATA)) });
    });
    return out;
  } finally {
    await d.close();
  }
}

// Serial: runs before the test below, on the same small disk, and gives its space back.
(skipReason === null ? test.serial : test.skip)(`disk full, pushes nobody awaits: flush() and close() reject with IO${skipReason ? ` (skipped: ${skipReason})` : ''}`, async (t) => {
  const root = path.join(mountDir, 'unobserved');
  const d = await Driver.create('files', { root_path: root });
  try {
    await d.createTopic('full', { options: { num_partitions: 1 } });
    const topic = await d.openTopic('full');
    const producer = topic.producer({ batchSize: 50 });
    for (let i = 0; i < 1000; i++) producer.push({ i }, payload(0, i, DATA)); // 3 MB on a 2 MiB disk
    const err = await t.throwsAsync(producer.flush(), { instanceOf: DiasporaError });
    t.is((err as DiasporaError).code, ErrorCode.IO);
    t.regex((err as Error).message, /ENOSPC|no space/i);
    producer.push({ i: -1 }, Buffer.alloc(3 << 20, 1)); // 3 MiB: does not fit either
    const closeErr = await t.throwsAsync(producer.close(), { instanceOf: DiasporaError });
    t.is((closeErr as DiasporaError).code, ErrorCode.IO);
  } finally {
    await d.close();
    fs.rmSync(root, { recursive: true, force: true });
  }
});

(skipReason === null ? test : test.skip)(`disk full: IO error, nothing partial, nothing lost, appends resume once space is freed${skipReason ? ` (skipped: ${skipReason})` : ''}`, async (t) => {
  const root = path.join(mountDir, 'root');
  const filler = path.join(mountDir, 'filler');
  fs.writeFileSync(filler, Buffer.alloc(512 * 1024, 1));
  const d = await Driver.create('files', { root_path: root, flush_behavior: 'immediate' });
  let committed = 0;
  let failure: unknown = null;
  try {
    await d.createTopic('full', { options: { num_partitions: 1 } });
    const topic = await d.openTopic('full');
    const producer = topic.producer();
    for (let i = 0; i < 2000 && failure === null; i++) {
      try {
        t.is(await producer.push({ i }, payload(0, i, DATA)).wait(), i, 'ids are dense while there is space');
        committed++;
      } catch (err) {
        failure = err;
      }
    }
    t.true(failure instanceof DiasporaError, `the failing push rejects with a DiasporaError: ${String(failure)}`);
    t.is((failure as DiasporaError).code, ErrorCode.IO);
    t.regex((failure as Error).message, /ENOSPC|no space/i);
    t.log(`${committed} events of ${DATA} bytes fitted`);
    t.true(committed > 50, `${committed} events fitted`);
    // Another try while still full fails the same way and does not disturb what is committed.
    const again = await t.throwsAsync(producer.push({ i: committed }, payload(0, committed, DATA)).wait(), { instanceOf: DiasporaError });
    t.is((again as DiasporaError).code, ErrorCode.IO);
    // flush() reports the write failures since the previous flush, these too though their pushes were awaited.
    const reported = await t.throwsAsync(producer.flush(), { instanceOf: DiasporaError });
    t.is((reported as DiasporaError).code, ErrorCode.IO);
    const before = await readAll(root);
    t.deepEqual(before.map((e) => e.id), Array.from({ length: committed }, (_, k) => k), 'a reader sees exactly the committed events');
    t.true(before.every((e) => e.ok && e.i === e.id), 'every committed byte intact');

    fs.rmSync(filler);
    for (let k = 0; k < 20; k++) {
      const i = committed + k;
      t.is(await producer.push({ i }, payload(0, i, DATA)).wait(), i, 'appends resume with dense ids on the same producer');
    }
    await topic.close();
  } finally {
    await d.close();
  }
  const after = await readAll(root);
  t.deepEqual(after.map((e) => e.id), Array.from({ length: committed + 20 }, (_, k) => k), 'reopened: dense ids, nothing lost');
  t.true(after.every((e) => e.ok && e.i === e.id));
});
