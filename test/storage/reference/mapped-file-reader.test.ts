// The chunked mapping of growing files: zero-copy inside a chunk, own mappings across chunk boundaries, copies
// past the map limit, remapping on growth, and never a byte past the end of the file.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import mmapModule from 'mmap-io';
import { MappedFileReader } from '../../../storage/reference/mapped-file-reader.js';
import { ReferenceTopicStore } from '../../../storage/reference/reference-topic-store.js';
import { tempDir } from '../../temp-dir.js';

const PAGE = (mmapModule as unknown as typeof mmapModule.default).PAGESIZE;

function pattern(n: number, seed = 0): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + seed + (i >> 8)) & 0xff;
  return b;
}

test('slices inside, across and beyond chunks return the file bytes; growth is picked up', (t) => {
  const dir = tempDir(t);
  try {
    const file = path.join(dir, 'f');
    const content = pattern(PAGE * 10 + 123);
    fs.writeFileSync(file, content.subarray(0, PAGE * 3));
    const reader = new MappedFileReader(file, { chunkBytes: PAGE * 2, mapLimit: PAGE * 8 });
    t.is(reader.size(), PAGE * 3);
    const a = reader.slice(10, 100)!;
    const b = reader.slice(200, 300)!;
    t.deepEqual(a, content.subarray(10, 110));
    t.is(a.buffer, b.buffer, 'same chunk: views of one mapping');
    const across = reader.slice(PAGE * 2 - 50, 100)!;
    t.deepEqual(across, content.subarray(PAGE * 2 - 50, PAGE * 2 + 50));
    t.not(across.buffer, a.buffer, 'a range across chunks has its own mapping');
    t.is(reader.slice(PAGE * 3 - 10, 11), null, 'past the end of the file: null, nothing mapped');
    // The file grows: the partially mapped chunk is remapped to cover the new bytes.
    fs.appendFileSync(file, content.subarray(PAGE * 3));
    t.deepEqual(reader.slice(PAGE * 3 - 10, PAGE), content.subarray(PAGE * 3 - 10, PAGE * 4 - 10));
    t.deepEqual(reader.slice(PAGE * 5, 10), content.subarray(PAGE * 5, PAGE * 5 + 10));
    // Beyond the map limit: a copy with the right bytes.
    const far = reader.slice(PAGE * 8 - 5, PAGE * 2 + 100)!;
    t.deepEqual(far, content.subarray(PAGE * 8 - 5, PAGE * 10 + 95));
    t.is(reader.slice(0, 0)!.length, 0);
    t.is(reader.slice(content.length, 0)!.length, 0);
    reader.close();
    t.deepEqual(a, content.subarray(10, 110), 'slices stay valid after close');
    t.throws(() => new MappedFileReader(file, { chunkBytes: PAGE + 1 }), { instanceOf: RangeError });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing file reads as empty until it appears', (t) => {
  const dir = tempDir(t);
  try {
    const file = path.join(dir, 'later');
    const reader = new MappedFileReader(file);
    t.is(reader.size(), 0);
    t.is(reader.slice(0, 1), null);
    fs.writeFileSync(file, 'hello');
    t.is(reader.slice(0, 5)!.toString(), 'hello');
    reader.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a partition read through tiny chunks and a tiny map limit returns the same events', (t) => {
  const dir = tempDir(t);
  try {
    const root = path.join(dir, 'root');
    const store = ReferenceTopicStore.create(root, 'big', { numPartitions: 1 });
    const events = Array.from({ length: 300 }, (_, i) => ({
      metadata: new TextEncoder().encode(JSON.stringify({ i, pad: 'x'.repeat(i % 50) })),
      data: pattern((i * 37) % 3000, i),
    }));
    store.partition(0).append(events);
    store.close();
    const small = ReferenceTopicStore.open(root, 'big', { mapChunkBytes: PAGE, mapLimit: PAGE * 40 });
    const got = small.partition(0).readRange(0, 1000);
    t.is(got.length, 300);
    got.forEach((e, i) => {
      t.deepEqual(Buffer.from(e.metadata), Buffer.from(events[i]!.metadata));
      t.deepEqual(Buffer.from(e.data()), events[i]!.data);
    });
    small.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
