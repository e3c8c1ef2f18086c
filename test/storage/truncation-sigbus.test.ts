// Segment files truncated by another process under a reader that has them mapped: touching a page past the end of
// a file raises SIGBUS (the process dies). The reader runs in a child, so a SIGBUS shows as its exit signal; every
// access after the truncation must be a typed CORRUPTION naming the file, and the process must live on.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { createTopicStore } from '../../storage/open-topic.js';
import { partitionDirName, segmentPaths } from '../../storage/segment-files.js';
import { forkBin, exitOf, nextMessage, payload } from './helpers.js';
import { tempDir } from '../temp-dir.js';

const EVENT_BYTES = 64 * 1024;

interface Outcome {
  what: string;
  code: string | null;
  file?: string;
  offset?: number;
}

/** A topic of 8 events of 64 KiB data (and 8 KB metadata) in partition 0; returns the files of each kind. */
function build(root: string, format: 'native' | 'reference'): { data: string; meta: string } {
  const topic = createTopicStore(root, 't', format, { numPartitions: 1 });
  topic.partition(0).append(Array.from({ length: 8 }, (_, i) => ({
    metadata: Buffer.from(JSON.stringify({ i, pad: ' '.repeat(8000) })), data: payload(0, i, EVENT_BYTES),
  })));
  topic.close();
  const dir = path.join(root, 't', 'partitions', partitionDirName(0));
  return format === 'native'
    ? { data: segmentPaths(dir, 0).data, meta: segmentPaths(dir, 0).meta }
    : { data: path.join(dir, 'data'), meta: path.join(dir, 'metadata') };
}

for (const format of ['native', 'reference'] as const) {
  for (const verify of format === 'native' ? [true, false] : [false]) {
    for (const which of ['data', 'meta'] as const) {
      test(`another process truncates the ${format} ${which} file under a consumer holding a batch${format === 'native' ? ` (verifyData ${verify})` : ''}: CORRUPTION, no SIGBUS`, async (t) => {
        const root = tempDir(t);
        const file = build(root, format)[which];
        const child = forkBin(t, 'truncated-reader', [root, 't', verify ? '1' : '0']);
        const held = await nextMessage<{ type: string; end: number; first: Outcome }>(child, (m) => m.type === 'held');
        t.is(held.end, 8);
        t.is(held.first.code, null, 'event 0 read fine before the truncation');
        execFileSync('truncate', ['-s', '0', file]); // a real other process
        t.is(fs.statSync(file).size, 0);
        // nextMessage waits for the IPC channel to close, not for 'exit' (which may be seen before the last message).
        const reported = nextMessage<{ type: string; outcomes: Outcome[] }>(child, (m) => m.type === 'outcomes');
        child.send({ type: 'go' });
        const exit = await exitOf(child);
        t.deepEqual(exit, { code: 0, signal: null }, 'the reader survived (no SIGBUS)');
        const { outcomes } = await reported;
        for (const o of outcomes as Outcome[]) {
          // Held events' data do not need the metadata file; their metadata does not need the data file. New reads need both.
          const touchesFile = o.what.startsWith('read') || (which === 'meta') === o.what.includes('metadata');
          if (touchesFile) {
            t.is(o.code, 'CORRUPTION', `${o.what}: ${JSON.stringify(o)}`);
            t.is(o.file, file, o.what);
            t.is(typeof o.offset, 'number', o.what);
          } else {
            t.is(o.code, null, `${o.what} does not need the truncated file`);
          }
        }
      });
    }
  }
}
