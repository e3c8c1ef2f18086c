// Address-space limits (RLIMIT_AS, `ulimit -v`): a child process reads a topic whose last segment is open for growth
// with its address space limited to what it uses plus a margin. A reader maps a growing segment file with growth
// headroom (its size, between 1 and 64 MiB: storage/segment-reader.ts); when that does not fit, it maps the file's
// bytes alone and reads on.
// When even those do not fit, the read fails with IO (ENOMEM), not CORRUPTION, and the process does not crash.
// Topics in the C++ reference's format (one file per kind, mapped in 1 GiB chunks) fall back the same way.
// Needs prlimit(1) (util-linux); skipped with the reason otherwise.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Driver } from '../../../lib/index.js';
import { startChild } from '../child.js';
import { tempRoot } from './torn-tail.js';

let skipReason: string | null = null;
try {
  execFileSync('prlimit', ['--version'], { stdio: 'pipe' });
} catch (err) {
  skipReason = `no prlimit: ${(err as Error).message.split('\n')[0]}`;
}
const maybe = skipReason === null ? test : test.skip;
const skipped = skipReason === null ? '' : ` (skipped: ${skipReason})`;

/** One partition, one segment still open for growth: `events` events of `dataBytes` bytes. */
async function growingTopic(root: string, events: number, dataBytes: number): Promise<void> {
  const d = await Driver.create('files', { root_path: root });
  await d.createTopic('t', { options: { num_partitions: 1 } });
  const producer = (await d.openTopic('t')).producer();
  for (let i = 0; i < events; i++) producer.push({ i }, Buffer.alloc(dataBytes, i));
  await producer.close();
  await d.close();
}

async function readUnderLimit(root: string, marginMiB: number, topic = 't'): Promise<{ events: number; bytes: number; error: { code: string; message: string } | null; exit: number | null; stderr: string }> {
  const child = startChild('address-space-reader.js', [root, topic, String(marginMiB)]);
  const { code } = await child.exited;
  const line = child.lines.find((l) => l.startsWith('{'));
  return { ...(line ? JSON.parse(line) : { events: -1, bytes: -1, error: null }), exit: code, stderr: child.stderr() };
}

maybe(`a growing segment whose headroom mapping does not fit in the address space is mapped without it and read whole${skipped}`, async (t) => {
  const root = tempRoot(t);
  await growingTopic(root, 300, 100_000); // 30 MB of data: fits in 40 MiB, not with as much headroom again
  const r = await readUnderLimit(root, 40);
  t.log(JSON.stringify(r).slice(0, 500));
  t.is(r.exit, 0, r.stderr);
  t.is(r.error, null, 'no error');
  t.is(r.events, 300);
  t.is(r.bytes, 300 * 100_000);
});

maybe(`a segment that does not fit in the address space at all: IO (ENOMEM), not CORRUPTION, and no crash${skipped}`, async (t) => {
  const root = tempRoot(t);
  await growingTopic(root, 64, 1 << 20); // 64 MiB of data, with a margin of 24 MiB
  const r = await readUnderLimit(root, 24);
  t.log(JSON.stringify(r).slice(0, 500));
  t.is(r.exit, 0, r.stderr);
  t.is(r.error?.code, 'IO', JSON.stringify(r.error));
  t.regex(r.error!.message, /ENOMEM/);
});

maybe(`a reference-format topic whose 1 GiB chunk mappings do not fit in the address space is mapped to its files' ends and read whole${skipped}`, async (t) => {
  const root = tempRoot(t);
  const fixture = fileURLToPath(new URL('../../../../fixtures/reference-cpp', import.meta.url));
  fs.cpSync(path.join(fixture, 'root'), root, { recursive: true });
  const expected = JSON.parse(fs.readFileSync(path.join(fixture, 'expected.json'), 'utf8')) as {
    topics: Record<string, { partitions: Array<{ events: Array<{ data_size: number }> }> }>;
  };
  const events = expected.topics.collisions!.partitions.flatMap((p) => p.events);
  const r = await readUnderLimit(root, 40, 'collisions');
  t.log(JSON.stringify(r).slice(0, 500));
  t.is(r.exit, 0, r.stderr);
  t.is(r.error, null, 'no error');
  t.is(r.events, events.length);
  t.is(r.bytes, events.reduce((sum, e) => sum + e.data_size, 0));
});
