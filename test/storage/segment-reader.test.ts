// Mappings of growing segments: a reader tailing a writer must not need a new mapping per commit (each mapping is
// only released by the GC, and a process may hold at most ~65,530), and must never touch bytes past the end of a
// file (SIGBUS) even though growing files are mapped with headroom.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { PartitionLog } from '../../storage/partition-log.js';
import { MappedFile, GROWTH_HEADROOM_BYTES, MIN_GROWTH_HEADROOM_BYTES } from '../../storage/segment-reader.js';
import { tempDir } from '../temp-dir.js';

test('a reader tailing 5,000 single-event commits reuses a handful of mappings', (t) => {
  const dir = path.join(tempDir(t), 'p');
  const writer = PartitionLog.open(dir, 0, { verifyData: true });
  const reader = PartitionLog.open(dir, 0, { verifyData: true });
  t.teardown(() => {
    writer.close();
    reader.close();
  });
  const buffers = new Set<ArrayBufferLike>();
  for (let i = 0; i < 5000; i++) {
    writer.append([{ metadata: Buffer.from(`{"i":${i}}`), data: Buffer.alloc(100, i & 255) }]);
    reader.refresh();
    const [ev] = reader.readRange(i, 1);
    const data = ev.data();
    t.is(data[99], i & 255);
    buffers.add(data.buffer);
    buffers.add(ev.metadata.buffer);
  }
  // Without headroom every commit needed two new mappings (metadata and data): 10,000 here.
  t.true(buffers.size <= 8, `${buffers.size} distinct mappings`);
});

test('bytes past the measured end of a file are refused, not touched', (t) => {
  const file = path.join(tempDir(t), 'f');
  fs.writeFileSync(file, Buffer.alloc(100, 7));
  const m = new MappedFile(file);
  const map = m.cover(100);
  t.true(map.length >= 100 + MIN_GROWTH_HEADROOM_BYTES); // mapped with headroom past the end...
  const err = t.throws(() => m.cover(101)); // ...but a range past the end is an error, never a read
  t.is((err as { code?: string }).code, 'CORRUPTION');
  fs.appendFileSync(file, Buffer.alloc(50, 9));
  const grown = m.cover(150); // the file grew into the headroom: same mapping, new bytes visible
  t.is(grown, map);
  t.is(grown[149], 9);
  m.close();
});

test('the headroom grows with the file (1 MiB to 64 MiB past its end): few mappings while it grows, little memory per small file', (t) => {
  const file = path.join(tempDir(t), 'f');
  fs.writeFileSync(file, Buffer.alloc(100));
  const m = new MappedFile(file);
  t.teardown(() => m.close());
  const small = m.cover(100);
  t.true(small.length < 100 + 2 * MIN_GROWTH_HEADROOM_BYTES, `${small.length} bytes mapped for a 100-byte file`);
  // Growing to 8 MiB a MiB at a time: each mapping covers at least twice the size it was made at.
  const mappings = new Set<Buffer>([small]);
  for (let size = 1; size <= 8; size++) {
    fs.truncateSync(file, size * MIN_GROWTH_HEADROOM_BYTES);
    mappings.add(m.cover(size * MIN_GROWTH_HEADROOM_BYTES));
  }
  t.true(mappings.size <= 5, `${mappings.size} mappings for growth from 100 bytes to 8 MiB`);
  // A big file gets the largest headroom, no more.
  fs.truncateSync(file, 100 * MIN_GROWTH_HEADROOM_BYTES);
  const big = m.cover(100 * MIN_GROWTH_HEADROOM_BYTES);
  t.is(big.length, 100 * MIN_GROWTH_HEADROOM_BYTES + GROWTH_HEADROOM_BYTES);
});

test('writing into a delivered slice neither crashes the process nor changes the stored event', (t) => {
  const dir = path.join(tempDir(t), 'p');
  const log = PartitionLog.open(dir, 0, {});
  t.teardown(() => log.close());
  log.append([{ metadata: Buffer.from('{"a":1}'), data: Buffer.from('original') }]);
  const slice = log.read(0).data();
  slice.set(Buffer.from('CHANGED!')); // a read-only mapping would kill the process here (SIGSEGV)
  t.is(Buffer.from(slice).toString(), 'CHANGED!');
  const other = PartitionLog.open(dir, 0, {});
  t.teardown(() => other.close());
  t.is(Buffer.from(other.read(0).data()).toString(), 'original', 'the file is unchanged (copy-on-write)');
  const file = fs.readdirSync(dir).find((f) => f.endsWith('.data'))!;
  t.is(fs.readFileSync(path.join(dir, file)).toString(), 'original');
});
