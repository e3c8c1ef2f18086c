// Topics written by the C++ reference library, through the public API: Driver.create('files') opens them
// transparently; selection, zero-copy slices and named consumers with acknowledgements work, the reference's files
// are not modified by reading and acknowledging, and a TypeScript producer appends in the reference's format.
import test from 'ava';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataDescriptor, Driver, type JsonObject } from '../../../../lib/index.js';
import { tempDir } from '../../../temp-dir.js';

const FIXTURE = fileURLToPath(new URL('../../../../../fixtures/reference-cpp', import.meta.url));

interface Expected {
  topics: Record<string, { num_partitions: number; partitions: Array<{ events: Array<{ id: number; metadata: JsonObject; data_size: number; data_sha256: string }> }> }>;
}

function copyFixture(t: { teardown(fn: () => void): void }): string {
  const dir = tempDir(t, 'diaspora-refapi-');
  fs.cpSync(path.join(FIXTURE, 'root'), dir, { recursive: true });
  return dir;
}

function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of ['00000000', '00000001']) {
    for (const f of ['index', 'metadata', 'data']) {
      const file = path.join(dir, 'collisions/partitions', p, f);
      out.set(`${p}/${f}`, crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex'));
    }
  }
  return out;
}

const sha = (b: Uint8Array): string => crypto.createHash('sha256').update(b).digest('hex');

test('reference topics through the API: every event, selections, zero copy, named consumers, files untouched', async (t) => {
  const root = copyFixture(t);
  const expected = JSON.parse(fs.readFileSync(path.join(FIXTURE, 'expected.json'), 'utf8')) as Expected;
  const before = snapshot(root);
  const driver = await Driver.create('files', { root_path: root });
  t.teardown(() => driver.close());
  t.deepEqual([...(await driver.listTopics()).keys()].sort(), ['collisions', 'empty', 'strings']);
  const topic = await driver.openTopic('collisions');
  t.is(topic.partitions.length, 2);

  // Every event, with all its data (zero-copy slices of the mapped reference files).
  const all = await topic.consumer('all', { until: 'end' });
  const seen = new Map<string, { md: JsonObject; sha: string; size: number; shared: boolean }>();
  for await (const e of all) {
    const seg = e.data.segments[0];
    seen.set(`${e.partition}:${e.id}`, {
      md: e.metadata as JsonObject,
      sha: sha(e.data.toBuffer()),
      size: e.data.size,
      shared: e.data.size === 0 || seg.buffer.byteLength > seg.byteLength,
    });
    await e.acknowledge();
  }
  await all.close();
  let n = 0;
  expected.topics.collisions.partitions.forEach((part, p) => {
    for (const ev of part.events) {
      const got = seen.get(`${p}:${ev.id}`);
      t.truthy(got, `p${p}#${ev.id}`);
      t.deepEqual(got!.md, ev.metadata);
      t.is(got!.size, ev.data_size);
      t.is(got!.sha, ev.data_sha256);
      t.true(got!.shared, 'a view of the mapping, not a copy');
      n++;
    }
  });
  t.is(seen.size, n);

  // A selection: bytes 10..19 of every event's data, then every other byte of those (views compose).
  const sel = await topic.consumer('sel', {
    from: 'earliest',
    until: 'end',
    dataSelector: (_md, d: DataDescriptor) => (d.size >= 20 ? d.makeSubView(10, 10).makeStridedView(0, 5, 1, 1) : null),
    dataAllocator: (_md, d) => Buffer.alloc(d.size),
  });
  for await (const e of sel) {
    const k = (e.metadata as JsonObject).k as number;
    const size = (k * 97) % 4096;
    const want = [];
    for (let j = 10; j < Math.min(20, size); j += 2) want.push((k * 31 + j * 7) % 256);
    if (size >= 20) t.deepEqual([...e.data.toBuffer()], want);
    else t.is(e.data.size, 0);
  }
  await sel.close();

  // The named consumer resumes after its acknowledgements: nothing left.
  const again = await topic.consumer('all', { until: 'end' });
  t.is(await again.pull(), null);
  await again.close();
  t.deepEqual(snapshot(root), before, 'reading and acknowledging left the reference files unchanged');
  t.true(fs.existsSync(path.join(root, 'collisions/consumers')), 'positions are stored beside the topic');

  // Appending goes in the reference format: a new entry of 32 bytes in the index.
  const p0Index = path.join(root, 'collisions/partitions/00000000/index');
  const size0 = fs.statSync(p0Index).size;
  const id = await topic.producer().push({ k: 1000, energy: 99, detector: 'ts' }, Buffer.from('from typescript'), 0);
  t.is(id, size0 / 32);
  t.is(fs.statSync(p0Index).size, size0 + 32);
  const tail = await topic.consumer('tail', { from: id, until: 'end', targets: [0] });
  const last = (await tail.pull())!;
  t.deepEqual(last.metadata, { k: 1000, energy: 99, detector: 'ts' });
  t.is(last.data.toBuffer().toString(), 'from typescript');
});
