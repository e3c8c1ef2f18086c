// Running out of file descriptors (EMFILE): a child process takes every descriptor but a few (0..N) and runs a named
// consumer's life (open, read, acknowledge, close), or a producer's (pushes, flush, close). Whatever step fails, the failure is IO (never CORRUPTION, nor an
// untyped error), the consumer's claims are free again afterwards (a consumer of the same name opens; a claim that
// cannot be released for want of a descriptor is released in the background once one is free), and no descriptor
// is left open (/proc/self/fd counted before and after).
import test from 'ava';
import { Driver } from '../../../lib/index.js';
import { startChild } from '../child.js';
import { tempRoot } from './torn-tail.js';

interface Line {
  map?: boolean;
  spare?: number;
  error?: { code: string; message: string } | null;
  errors?: Array<{ code: string; message: string }>;
  claimsFree?: boolean;
  leaked?: number;
}

async function topicOfSegments(root: string): Promise<void> {
  const d = await Driver.create('files', { root_path: root, segment_bytes: 4096 });
  await d.createTopic('t', { options: { num_partitions: 3 } });
  const producer = (await d.openTopic('t')).producer();
  for (let i = 0; i < 300; i++) producer.push({ i }, Buffer.alloc(100, i), i % 3);
  await producer.close();
  await d.close();
}

const PHASES = { open: 'from the start', read: 'once the consumer is open', write: 'while a producer writes' } as const;

for (const phase of ['open', 'read', 'write'] as const) {
  test(`out of descriptors (${PHASES[phase]}): IO errors, claims given back, no descriptor leaked`, async (t) => {
    const root = tempRoot(t);
    await topicOfSegments(root);
    const child = startChild('fd-starved.js', [root, 't', 'c', '16', phase]);
    const { code } = await child.exited;
    t.is(code, 0, child.stderr());
    const lines = child.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Line);
    for (const l of lines) t.log(JSON.stringify(l));
    const map = lines.find((l) => l.map)!;
    t.is(map.error?.code, 'IO', `a segment file that cannot be opened (EMFILE) is IO: ${JSON.stringify(map.error)}`);
    const runs = lines.filter((l) => !l.map);
    t.is(runs.length, 17);
    for (const r of runs) {
      for (const e of r.errors!) t.is(e.code, 'IO', `spare ${r.spare}: ${e.message}`);
      t.true(r.claimsFree, `spare ${r.spare}: the claims were given back`);
      t.is(r.leaked, 0, `spare ${r.spare}: descriptors left open`);
    }
    t.true(runs.some((r) => r.errors!.length > 0), 'some runs met EMFILE');
  });
}
