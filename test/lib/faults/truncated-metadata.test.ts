// A .meta file truncated by another process after a consumer read its events: the events' metadata is read from the
// mapping only when asked for (metadataText decodes straight from it), so each accessor must re-check the file and
// fail with a DiasporaError CORRUPTION naming the event, never SIGBUS and never a raw engine error. Data (another
// file) stays readable.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DiasporaError, ErrorCode, type Event } from '../../../lib/index.js';
import { tempDriver } from '../../../lib/testing/index.js';

const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

test('metadata of events held by a consumer, after another process truncated the .meta file: CORRUPTION from each accessor', async (t) => {
  const { driver, root } = await tempDriver({ t });
  await driver.createTopic('t');
  const topic = await driver.openTopic('t');
  const producer = topic.producer();
  for (let i = 0; i < 8; i++) producer.push(`{"i":${i}}`, Buffer.alloc(4096, i));
  await producer.flush();
  const consumer = await topic.consumer('c', { until: 'end', durable: false, batchSize: 8 });
  t.teardown(() => consumer.close());
  const held: Event[] = [];
  for (let i = 0; i < 8; i++) held.push((await consumer.pull())!);
  t.is(held[0]!.metadataText, '{"i":0}', 'read fine before the truncation');
  const metaFile = fs.readdirSync(path.join(root, 't', 'partitions', '00000000')).find((f) => f.endsWith('.meta'))!;
  execFileSync('truncate', ['-s', '0', path.join(root, 't', 'partitions', '00000000', metaFile)]); // a real other process
  await nextTurn(); // sizes measured earlier are trusted for one turn of the event loop only
  const accessors: Array<[string, (e: Event) => unknown]> = [
    ['metadataText', (e) => e.metadataText],
    ['metadataBytes', (e) => e.metadataBytes],
    ['metadata', (e) => e.metadata],
  ];
  accessors.forEach(([name, get], k) => {
    const e = held[1 + k]!;
    const err = t.throws(() => get(e), { instanceOf: DiasporaError }, name);
    t.is(err?.code, ErrorCode.CORRUPTION, name);
    t.regex(err!.message, new RegExp(`event ${e.id}\\b`), name);
  });
  t.deepEqual(Buffer.from(held[5]!.data.segments[0]!), Buffer.alloc(4096, 5), 'data lives in another file');
});
