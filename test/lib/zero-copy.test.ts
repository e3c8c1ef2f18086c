// Zero copy, end to end: 1 GiB of 1 MiB events consumed without an allocator stays far below 1 GiB of resident
// memory, and the delivered slices are views of the mapped segment file.
import test from 'ava';
import { Driver } from '../../lib/index.js';
import { startChild } from './child.js';
import { tempDir } from '../temp-dir.js';

test('consuming 1 GiB of 1 MiB events zero-copy keeps resident memory far below 1 GiB', async (t) => {
  const root = tempDir(t, 'diaspora-zc-');
  const d = await Driver.create('files', { root_path: root });
  await d.createTopic('big');
  const producer = (await d.openTopic('big')).producer({ batchSize: 16 });
  const chunks = Array.from({ length: 16 }, () => Buffer.alloc(1 << 20));
  for (let i = 0; i < 1024; i++) {
    const chunk = chunks[i % 16]; // reused only after the flush below committed it
    chunk.writeUInt32LE(i, 0);
    producer.push({ i }, chunk);
    if (i % 16 === 15) await producer.flush(); // the producer holds data by reference until committed
  }
  await producer.flush();
  await d.close();
  const reader = startChild('zero-copy-reader.js', [root, 'big']);
  const line = await reader.waitFor(/^\{/, 120_000);
  const r = JSON.parse(line) as { events: number; bytes: number; peakAnon: number; peakFile: number; distinctBuffers: number; contentOk: number };
  const mib = (n: number): string => (n / 2 ** 20).toFixed(0);
  t.log(`peak private RSS ${mib(r.peakAnon)} MiB (mapped page-cache pages touched: ${mib(r.peakFile)} MiB) while delivering ${(r.bytes / 2 ** 30).toFixed(2)} GiB; slices in ${r.distinctBuffers} mapping(s)`);
  t.is(r.events, 1024);
  t.is(r.bytes, 1 << 30);
  t.is(r.contentOk, 1024);
  t.true(r.peakAnon < 200 * 2 ** 20, `peak private RSS ${r.peakAnon}`);
  // Copies would need 1024 buffers; slices of the mapped segments share a handful.
  t.true(r.distinctBuffers <= 32, `${r.distinctBuffers} distinct buffers`);
});

test('writing into delivered slices changes this process\'s copy only: another consumer of the same handle gets the stored bytes', async (t) => {
  const driver = await Driver.create('files', { root_path: tempDir(t) });
  t.teardown(() => driver.close());
  await driver.createTopic('t');
  const topic = await driver.openTopic('t');
  const producer = topic.producer();
  for (let i = 0; i < 3; i++) await producer.push({ i }, Buffer.from(`ORIGINAL-${i}`));
  const scribbler = await topic.consumer('scribbler', { until: 'end', durable: false });
  const kept: Uint8Array[] = [];
  for await (const e of scribbler) {
    e.data.segments[0]![0] = 0x58; // 'X'
    e.metadataBytes[1] = 0x20; // '{"i"' -> '{ i"': no longer the stored text
    kept.push(e.data.segments[0]!);
  }
  const reader = await topic.consumer('reader', { until: 'end', durable: false });
  const seen: string[] = [];
  for await (const e of reader) seen.push(`${e.metadataText} ${Buffer.from(e.data.toBuffer()).toString()}`);
  t.deepEqual(seen, [0, 1, 2].map((i) => `{"i":${i}} ORIGINAL-${i}`));
  // The scribbler's slices keep its changes (they are its copy), and the files never changed.
  t.deepEqual(kept.map((b) => String.fromCharCode(b[0]!)), ['X', 'X', 'X']);
  t.deepEqual(await topic.verify(), []);
});
