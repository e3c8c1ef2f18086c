// selectData: selectors, allocators, zero-copy slices and gathered copies (the DataSelectionTest cases and more).
import test from 'ava';
import { DataDescriptor } from '../../../lib/data/data-descriptor.js';
import { DataView } from '../../../lib/data/data-view.js';
import { bufferAllocator, fullDataSelector, selectData } from '../../../lib/data/selection.js';
import type { DataAllocator, DataSelector } from '../../../lib/data/selection.js';
import { DiasporaError, ErrorCode } from '../../../lib/errors.js';

const LETTERS = 'abcdefghijklmnopqrstuvwxyz' + 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** The event's data placed inside a bigger ArrayBuffer, as a mapped segment file would hold it. */
function mappedData(text: string): Uint8Array {
  const backing = new Uint8Array(text.length + 100).fill(0x2e);
  backing.set(Buffer.from(text), 37);
  return backing.subarray(37, 37 + text.length);
}

function counting<T extends (...args: never[]) => unknown>(fn: T): T & { calls: number } {
  const wrapper = ((...args: never[]) => {
    wrapper.calls++;
    return fn(...args);
  }) as T & { calls: number };
  wrapper.calls = 0;
  return wrapper;
}

test('the DataSelectionTest cases, with the buffer allocator', (t) => {
  const data = mappedData(LETTERS);
  const run = (selector: DataSelector) => selectData({}, 52, () => data, selector, bufferAllocator);
  const all = run(fullDataSelector);
  t.is(all.size, 52);
  t.is(all.segments.length, 1);
  t.is(all.toBuffer().toString(), LETTERS);
  t.is(run((_m, d) => d.makeSubView(13, 26)).toBuffer().toString(), 'nopqrstuvwxyzABCDEFGHIJKLM');
  const strided = run((_m, d) => d.makeStridedView(13, 3, 4, 2));
  t.is(strided.size, 12);
  t.is(strided.toBuffer().toString(), 'nopqtuvwzABC');
  const u = run((_m, d) =>
    d.makeUnstructuredView([
      [3, 6],
      [15, 4],
      [27, 8],
    ]),
  );
  t.is(u.size, 18);
  t.is(u.toBuffer().toString(), 'defghipqrsBCDEFGHI');
  t.is(run(() => new DataDescriptor()).size, 0);
});

test('no selector, no allocator: the whole data, zero copy, source called once', (t) => {
  const data = mappedData(LETTERS);
  const source = counting(() => data);
  const view = selectData({}, 52, source);
  t.is(source.calls, 1);
  t.is(view.segments.length, 1);
  t.is(view.segments[0], data);
  t.is(view.toBuffer().toString(), LETTERS);
  const none = counting(() => data);
  t.is(selectData({}, 0, none).size, 0);
  t.is(none.calls, 0);
});

test('zero copy: one subarray of the source per piece, same ArrayBuffer, right offsets', (t) => {
  const data = mappedData(LETTERS);
  const view = selectData({}, 52, () => data, (_m, d) => d.makeSubView(1, 40).makeStridedView(2, 3, 4, 6));
  const flat = new DataDescriptor('', 52).makeSubView(1, 40).makeStridedView(2, 3, 4, 6).flatten();
  t.is(view.segments.length, flat.length);
  view.segments.forEach((segment, i) => {
    t.is(segment.buffer, data.buffer);
    t.is(segment.byteOffset, data.byteOffset + flat[i][0]);
    t.is(segment.length, flat[i][1]);
  });
  t.is(view.toBuffer().toString(), 'defgnopqxyzA');
  // the full descriptor returned by a selector is the source itself
  t.is(selectData({}, 52, () => data, fullDataSelector).segments[0], data);
});

test('no data selected: empty view, allocator and source not called', (t) => {
  const data = mappedData(LETTERS);
  const selectors: DataSelector[] = [
    () => null,
    () => undefined,
    () => new DataDescriptor(),
    () => DataDescriptor.EMPTY,
    (_m, d) => d.makeSubView(0, 0),
  ];
  for (const selector of selectors) {
    const allocator = counting<DataAllocator>(bufferAllocator);
    const source = counting(() => data);
    const view = selectData({ energy: 1 }, 52, source, selector, allocator);
    t.is(view.size, 0);
    t.is(allocator.calls, 0);
    t.is(source.calls, 0);
  }
});

test('a selection past the end of the data is INVALID_VIEW, not fewer bytes', (t) => {
  const data = mappedData(LETTERS);
  for (const selector of [
    (_m: unknown, d: DataDescriptor) => d.makeSubView(26, 100), // 26 of the 52 bytes exist
    (_m: unknown, d: DataDescriptor) => d.makeSubView(52, 10), // none exist
    (_m: unknown, d: DataDescriptor) => d.makeSubView(40, 20).makeStridedView(0, 2, 2, 0), // the parent was cut
  ] as DataSelector[]) {
    const allocator = counting<DataAllocator>(bufferAllocator);
    const e = t.throws(() => selectData({}, 52, () => data, selector, allocator)) as DiasporaError;
    t.is(e.code, ErrorCode.INVALID_VIEW);
    t.is(allocator.calls, 0);
    t.is((t.throws(() => selectData({}, 52, () => data, selector)) as DiasporaError).code, ErrorCode.INVALID_VIEW);
  }
});

test('selector and allocator receive the metadata and descriptors', (t) => {
  const data = mappedData(LETTERS);
  const seen: unknown[] = [];
  const view = selectData(
    { energy: 42 },
    52,
    () => data,
    (metadata, d) => {
      seen.push(metadata, d.size, d.location, d.flatten());
      return (metadata as { energy: number }).energy > 20 ? d.makeSubView(0, 3) : null;
    },
    (metadata, d) => {
      seen.push(metadata, d.size, d.flatten());
      return Buffer.alloc(d.size);
    },
    'segment-7',
  );
  t.is(view.toBuffer().toString(), 'abc');
  t.deepEqual(seen, [{ energy: 42 }, 52, 'segment-7', [[0, 52]], { energy: 42 }, 3, [[0, 3]]]);
});

test('allocator shapes: several segments, a DataView, extra capacity left untouched', (t) => {
  const data = mappedData(LETTERS);
  const select: DataSelector = (_m, d) => d.makeStridedView(13, 3, 4, 2); // 'nopqtuvwzABC'
  const parts = [Buffer.alloc(5, 0xee), Buffer.alloc(0), Buffer.alloc(2, 0xee), Buffer.alloc(9, 0xee)];
  const view = selectData({}, 52, () => data, select, () => parts);
  t.is(view.size, 12);
  t.is(view.toBuffer().toString(), 'nopqtuvwzABC');
  t.is(Buffer.concat(parts).toString('latin1'), 'nopqtuvwzABC' + '\xee'.repeat(4));
  t.is(view.segments.length, 3); // the empty part is dropped, the last one cut to the 5 bytes used
  view.segments.forEach((segment) =>
    t.true(parts.some((p) => p.buffer === segment.buffer && p.byteOffset === segment.byteOffset)),
  );
  const target = new DataView([Buffer.alloc(7), Buffer.alloc(5)]);
  const exact = selectData({}, 52, () => data, select, () => target);
  t.is(exact.segments[0], target.segments[0]);
  t.is(exact.segments[1], target.segments[1]);
  t.is(target.toBuffer().toString(), 'nopqtuvwzABC');
  t.not(exact.segments[0].buffer, data.buffer);
});

test('allocator returning too little memory: BUFFER_TOO_SMALL, nothing written', (t) => {
  const data = mappedData(LETTERS);
  const small = [Buffer.alloc(4, 1), Buffer.alloc(4, 1)];
  const err = t.throws(
    () => selectData({}, 52, () => data, (_m, d) => d.makeSubView(0, 9), () => small),
    { instanceOf: DiasporaError },
  );
  t.is((err as DiasporaError).code, ErrorCode.BUFFER_TOO_SMALL);
  t.deepEqual(Buffer.concat(small), Buffer.alloc(8, 1));
  // the next event is unaffected
  t.is(selectData({}, 52, () => data, (_m, d) => d.makeSubView(0, 8), () => small).toBuffer().toString(), 'abcdefgh');
});

test('bad selector, allocator and source results', (t) => {
  const data = mappedData(LETTERS);
  for (const result of [42, 'all', {}, [0, 5], true]) {
    t.throws(() => selectData({}, 52, () => data, () => result as unknown as DataDescriptor), { instanceOf: TypeError });
  }
  for (const result of [null, 'x', [Buffer.alloc(60), 'x'], new Uint16Array(60), {}]) {
    t.throws(() => selectData({}, 52, () => data, fullDataSelector, () => result as unknown as Uint8Array), {
      instanceOf: TypeError,
    });
  }
  const other = t.throws(
    () => selectData({}, 52, () => data, () => new DataDescriptor('', 100).makeSubView(0, 10)),
    { instanceOf: DiasporaError },
  );
  t.is((other as DiasporaError).code, ErrorCode.INVALID_VIEW);
  const short = t.throws(() => selectData({}, 52, () => data.subarray(0, 10)), { instanceOf: DiasporaError });
  t.is((short as DiasporaError).code, ErrorCode.CORRUPTION);
  t.throws(() => selectData({}, -1, () => data), { instanceOf: TypeError });
  t.throws(() => selectData({}, 52, () => data, 'all' as unknown as DataSelector), { instanceOf: TypeError });
  t.throws(() => selectData({}, 52, () => data, undefined, 5 as unknown as DataAllocator), { instanceOf: TypeError });
  // a longer source is cut to the event's size
  t.is(selectData({}, 3, () => data).toBuffer().toString(), 'abc');
});

test('selector errors propagate unchanged', (t) => {
  const boom = new Error('boom');
  const err = t.throws(() =>
    selectData({}, 52, () => mappedData(LETTERS), () => {
      throw boom;
    }),
  );
  t.is(err, boom);
  const view = t.throws(
    () => selectData({}, 52, () => mappedData(LETTERS), (_m, d) => d.makeStridedView(0, 10, 5, 1)),
    { instanceOf: DiasporaError, message: 'Invalid strided view: would go out of bounds' },
  );
  t.is((view as DiasporaError).code, ErrorCode.INVALID_VIEW);
});

test('bufferAllocator gives one buffer of the selection size; fullDataSelector returns its argument', (t) => {
  const d = new DataDescriptor('', 52).makeSubView(3, 7);
  const memory = bufferAllocator({}, d) as Buffer;
  t.true(Buffer.isBuffer(memory));
  t.is(memory.length, 7);
  t.is(fullDataSelector({}, d), d);
});
