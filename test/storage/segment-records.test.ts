// The records a partition reads (storage/segment-records.ts): zero-copy views of the mapped segment files that stay
// valid after close, data slices that are views of the same mapping, and metadata decoded straight from it.
import test from 'ava';
import { PartitionLog } from '../../storage/partition-log.js';
import { payload, metaOf, writerAndReader } from './helpers.js';
import { tempDir } from '../temp-dir.js';

test('slices stay valid after close', (t) => {
  const dir = tempDir(t);
  const log = PartitionLog.open(dir, 0);
  log.append([{ metadata: metaOf(0, 0), data: payload(0, 0, 3000) }]);
  const ev = log.read(0);
  const data = ev.data();
  log.close();
  t.deepEqual(Buffer.from(data), payload(0, 0, 3000));
  t.deepEqual(Buffer.from(ev.metadata), metaOf(0, 0));
});

test('dataSlice returns one view of the mapping: the same bytes and memory as a subarray of data()', (t) => {
  const dir = tempDir(t);
  const log = PartitionLog.open(dir, 0);
  t.teardown(() => log.close());
  log.append([0, 1, 2].map((i) => ({ metadata: metaOf(3, i), data: payload(3, i, 300) })));
  for (const verifyData of [true, false]) {
    const reader = PartitionLog.open(dir, 0, { verifyData });
    const ev = reader.read(1);
    const whole = ev.data();
    for (const [offset, size] of [[0, 300], [0, 1], [17, 200], [299, 1], [150, 0]] as const) {
      const slice = ev.dataSlice!(offset, size);
      t.deepEqual(Buffer.from(slice), Buffer.from(whole.subarray(offset, offset + size)), `${offset}+${size}`);
      if (size > 0) {
        t.is(slice.buffer, whole.buffer, 'a view of the same mapping');
        t.is(slice.byteOffset, whole.byteOffset + offset);
      }
    }
    for (const [offset, size] of [[-1, 2], [0, 301], [300, 1], [10, -1]] as const) {
      t.throws(() => ev.dataSlice!(offset, size), { instanceOf: RangeError }, `${offset}+${size}`);
    }
    reader.close();
  }
});

test('metadataUtf8() decodes the stored metadata from the mapping: equal to decoding the bytes, strict, empty when none', (t) => {
  const { writer, reader } = writerAndReader(t, tempDir(t));
  const metas = [Buffer.from('{"a":"é😀"}'), Buffer.alloc(0), Buffer.from([0x7b, 0xff, 0x7d]), Buffer.from('"\uFFFD"')];
  writer.append(metas.map((metadata) => ({ metadata })));
  const events = reader.readRange(0, 4);
  t.is(events.length, 4);
  t.is(events[0]!.metadataUtf8!(), '{"a":"é😀"}');
  t.is(events[0]!.metadataUtf8!(), new TextDecoder().decode(events[0]!.metadata));
  t.is(events[1]!.metadataUtf8!(), '');
  t.throws(() => events[2]!.metadataUtf8!(), { instanceOf: TypeError }, 'invalid UTF-8 is not replaced');
  t.deepEqual(Buffer.from(events[2]!.metadata), metas[2], 'the bytes stay readable');
  t.is(events[3]!.metadataUtf8!(), '"\uFFFD"');
  t.is(reader.read(0).metadataUtf8!(), '{"a":"é😀"}');
});
