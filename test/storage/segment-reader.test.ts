// Mappings of growing segments: a reader tailing a writer must not need a new mapping per commit (each mapping is
// only released by the GC, and a process may hold at most ~65,530), and must never touch bytes past the end of a
// file (SIGBUS) even though growing files are mapped with headroom.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { PartitionLog } from '../../storage/partition-log.js';
import { MappedFile, GROWTH_HEADROOM_BYTES } from '../../storage/segment-reader.js';
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
  t.true(map.length >= 100 + GROWTH_HEADROOM_BYTES - 1); // mapped with headroom past the end...
  const err = t.throws(() => m.cover(101)); // ...but a range past the end is an error, never a read
  t.is((err as { code?: string }).code, 'CORRUPTION');
  fs.appendFileSync(file, Buffer.alloc(50, 9));
  const grown = m.cover(150); // the file grew into the headroom: same mapping, new bytes visible
  t.is(grown, map);
  t.is(grown[149], 9);
  m.close();
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
