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
