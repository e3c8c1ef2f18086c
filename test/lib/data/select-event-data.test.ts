// selectEventData: the consumer's per-event entry point takes the engine's record as its data source (no closure per
// event). It must behave exactly like selectData: data() called once and only when something is selected, called
// as a method of the record, the same zero-copy slices and the same errors.
import test from 'ava';
import { DataDescriptor } from '../../../lib/data/data-descriptor.js';
import { DataView } from '../../../lib/data/data-view.js';
import { bufferAllocator, selectData, selectEventData } from '../../../lib/data/selection.js';
import type { DataSelector, DataSource } from '../../../lib/data/selection.js';
import { DiasporaError, ErrorCode } from '../../../lib/errors.js';

const LETTERS = 'abcdefghijklmnopqrstuvwxyz' + 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** A record whose data lies inside a bigger ArrayBuffer (as in a mapped segment), counting its data() calls. */
class EngineRecord implements DataSource {
  calls = 0;
  readonly bytes: Uint8Array;
  constructor(
    text: string,
    readonly dataSize = text.length,
  ) {
    const backing = new Uint8Array(text.length + 64).fill(0x2e);
    backing.set(Buffer.from(text), 21);
    this.bytes = backing.subarray(21, 21 + text.length);
  }
  data(): Uint8Array {
    this.calls++;
    return this.bytes;
  }
}

const selectors: Array<[string, DataSelector | undefined]> = [
  ['none', undefined],
  ['all', (_m, d) => d],
  ['nothing', () => null],
  ['first 8', (_m, d) => d.makeSubView(0, 8)],
  ['strided', (_m, d) => d.makeStridedView(1, 4, 3, 2)],
  ['sub of strided', (_m, d) => d.makeStridedView(0, 13, 2, 2).makeSubView(3, 7)],
];

test('same bytes, slices and data() calls as selectData, zero copy and gathered', (t) => {
  for (const [name, selector] of selectors) {
    for (const allocator of [undefined, bufferAllocator]) {
      const record = new EngineRecord(LETTERS);
      const viaRecord = selectEventData({}, record, selector, allocator);
      let calls = 0;
      const viaFunction = selectData({}, LETTERS.length, () => (calls++, record.bytes), selector, allocator);
      t.is(viaRecord.toBuffer().toString(), viaFunction.toBuffer().toString(), name);
      t.is(viaRecord.segments.length, viaFunction.segments.length, name);
      t.is(record.calls, calls, name);
      t.true(record.calls <= 1, name);
      if (allocator === undefined) {
        for (const s of viaRecord.segments) t.is(s.buffer, record.bytes.buffer, `${name}: zero copy`);
      }
      if (viaRecord.size === 0) {
        t.is(viaRecord, DataView.EMPTY, name);
        t.is(record.calls, 0, `${name}: no data read when nothing is selected`);
      }
    }
  }
});

test('data() is called as a method of the record; a longer source is cut to dataSize', (t) => {
  const record = new EngineRecord(LETTERS, 10);
  const view = selectEventData({}, record, undefined, undefined);
  t.is(view.toBuffer().toString(), LETTERS.slice(0, 10));
  t.is(record.calls, 1);
});

test('the same errors as selectData', (t) => {
  const corrupt = t.throws(() => selectEventData({}, new EngineRecord('abc', 10), (_m, d) => d.makeSubView(0, 2), undefined));
  t.is((corrupt as DiasporaError).code, ErrorCode.CORRUPTION);
  t.throws(() => selectEventData({}, new EngineRecord(LETTERS), () => 'all' as never, undefined), { instanceOf: TypeError });
  const otherSize = t.throws(() => selectEventData({}, new EngineRecord(LETTERS), () => new DataDescriptor('', 5), undefined));
  t.is((otherSize as DiasporaError).code, ErrorCode.INVALID_VIEW);
  for (const dataSize of [-1, 1.5]) {
    const record = { dataSize, data: () => new Uint8Array(2) };
    t.throws(() => selectEventData({}, record, undefined, undefined), { instanceOf: TypeError });
  }
  const tooSmall = t.throws(() => selectEventData({}, new EngineRecord(LETTERS), (_m, d) => d, () => Buffer.alloc(3)));
  t.is((tooSmall as DiasporaError).code, ErrorCode.BUFFER_TOO_SMALL);
});

/** A record that also slices itself (as the files driver's does), counting both kinds of calls. */
class SlicingRecord extends EngineRecord {
  sliceCalls = 0;
  dataSlice(offset: number, size: number): Uint8Array {
    this.sliceCalls++;
    return this.bytes.subarray(offset, offset + size);
  }
}

test('a one-piece zero-copy selection uses the record\'s dataSlice: one view, same bytes and memory', (t) => {
  for (const [name, selector] of selectors) {
    const record = new SlicingRecord(LETTERS);
    const view = selectEventData({}, record, selector, undefined);
    const expected = selectData({}, LETTERS.length, () => record.bytes, selector, undefined);
    t.is(view.toBuffer().toString(), expected.toBuffer().toString(), name);
    for (const s of view.segments) t.is(s.buffer, record.bytes.buffer, `${name}: zero copy`);
    // With a selector, dataSlice for one selected piece (all data included); data() for several pieces or no
    // selector at all; never both.
    const onePiece = selector !== undefined && view.size > 0 && view.segments.length === 1;
    t.is(record.sliceCalls, onePiece ? 1 : 0, name);
    t.is(record.calls + record.sliceCalls, view.size > 0 ? 1 : 0, name);
  }
});

test('with an allocator the gather reads data(), not dataSlice', (t) => {
  const record = new SlicingRecord(LETTERS);
  const view = selectEventData({}, record, (_m, d) => d.makeSubView(2, 5), bufferAllocator);
  t.is(view.toBuffer().toString(), 'cdefg');
  t.is(record.sliceCalls, 0);
  t.is(record.calls, 1);
});

test('a dataSlice of the wrong length is CORRUPTION; not bytes is a TypeError', (t) => {
  const short = new (class extends SlicingRecord {
    override dataSlice(offset: number, size: number): Uint8Array {
      return this.bytes.subarray(offset, offset + size - 1);
    }
  })(LETTERS);
  const err = t.throws(() => selectEventData({}, short, (_m, d) => d.makeSubView(3, 4), undefined), { instanceOf: DiasporaError })!;
  t.is(err.code, ErrorCode.CORRUPTION);
  const notBytes = new (class extends SlicingRecord {
    override dataSlice(): Uint8Array {
      return 'abc' as unknown as Uint8Array;
    }
  })(LETTERS);
  t.throws(() => selectEventData({}, notBytes, (_m, d) => d.makeSubView(3, 4), undefined), { instanceOf: TypeError });
});
