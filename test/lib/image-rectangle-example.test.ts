// Runs the documentation's rectangle example (scripts/examples/image-rectangle.ts) as a real process: inline, then
// on a 2-thread pool whose workers run the selector, allocator and a byte-checking processor.
import test from 'ava';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const script = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../scripts/examples/image-rectangle.js');

test('the image-rectangle example checks every byte inline and on two worker threads, then exits by itself', async (t) => {
  const { stdout, stderr } = await promisify(execFile)(process.execPath, [script], { timeout: 60_000 });
  t.is(stderr, '');
  const lines = stdout.split('\n').filter(Boolean);
  t.false(lines.some((l) => l.includes('WRONG')));
  t.is(lines.filter((l) => /^(zero-copy|gathered) +event .* as expected$/.test(l)).length, 12);
  const threaded = lines.filter((l) => /^thread \d+ event .* as expected$/.test(l));
  t.is(threaded.length, 12, 'every event checked in a worker (and its output flushed before the thread ended)');
  const threads = new Set(threaded.map((l) => Number(l.split(' ')[1])));
  t.false(threads.has(0), 'not on the main thread');
  t.true(threads.size >= 2, 'two worker threads at work');
  t.true(lines.includes('threaded zero-copy: 6 events checked on 2 worker threads'));
  t.true(lines.includes('threaded gathered: 6 events checked on 2 worker threads'));
  // Zero copy: a 4-row rectangle is 4 slices of the mapping; gathered: one buffer.
  t.true(threaded.some((l) => l.includes('20 bytes in 4 segment(s)')));
  t.true(threaded.some((l) => l.includes('20 bytes in 1 segment(s)')));
});
