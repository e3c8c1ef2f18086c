// DataDescriptor: the reference's single-level results (API.md 2.4), relative composition, errors, save/load.
import test from 'ava';
import { DataDescriptor } from '../../../lib/data/data-descriptor.js';
import { AZ, pick } from './pick.js';
import { DiasporaError, ErrorCode } from '../../../lib/errors.js';

const LETTERS = 'abcdefghijklmnopqrstuvwxyz' + 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

const isInvalidView = (message: string) => ({ instanceOf: DiasporaError, message, code: ErrorCode.INVALID_VIEW });

test('constructors: full and empty descriptors', (t) => {
  const d = new DataDescriptor('test_location', 1024);
  t.is(d.size, 1024);
  t.is(d.baseSize, 1024);
  t.is(d.location, 'test_location');
  t.false(d.isEmpty);
  t.deepEqual(d.flatten(), [[0, 1024]]);
  const e = new DataDescriptor();
  t.is(e.size, 0);
  t.is(e.location, '');
  t.true(e.isEmpty);
  t.deepEqual(e.flatten(), []); // the reference returns [(0,0)]; we return no piece
  t.true(DataDescriptor.EMPTY.isEmpty);
  t.true(Object.isFrozen(DataDescriptor.EMPTY));
  t.deepEqual(DataDescriptor.EMPTY.flatten(), []);
});

test('single level: the DataSelectionTest table (52 bytes)', (t) => {
  const D = new DataDescriptor('', 52);
  t.is(pick(LETTERS, D), LETTERS);
  const sub = D.makeSubView(13, 26);
  t.is(sub.size, 26);
  t.deepEqual(sub.flatten(), [[13, 26]]);
  t.is(pick(LETTERS, sub), 'nopqrstuvwxyzABCDEFGHIJKLM');
  const strided = D.makeStridedView(13, 3, 4, 2);
  t.is(strided.size, 12);
  t.deepEqual(strided.flatten(), [
    [13, 4],
    [19, 4],
    [25, 4],
  ]);
  t.is(pick(LETTERS, strided), 'nopqtuvwzABC');
  const unstructured = D.makeUnstructuredView([
    [3, 6],
    [15, 4],
    [27, 8],
  ]);
  t.is(unstructured.size, 18);
  t.deepEqual(unstructured.flatten(), [
    [3, 6],
    [15, 4],
    [27, 8],
  ]);
  t.is(pick(LETTERS, unstructured), 'defghipqrsBCDEFGHI');
});

test('single level: the Python test_data_descriptor examples (1024 bytes)', (t) => {
  const D = new DataDescriptor('test_location', 1024);
  const a = D.makeSubView(100, 200);
  t.is(a.size, 200);
  t.is(a.location, 'test_location');
  t.deepEqual(a.flatten(), [[100, 200]]);
  const clamped = D.makeSubView(900, 200);
  t.is(clamped.size, 124);
  t.deepEqual(clamped.flatten(), [[900, 124]]);
  const beyond = D.makeSubView(1200, 200);
  t.is(beyond.size, 0);
  t.is(beyond.location, ''); // a fresh empty descriptor, as in the reference
  t.true(beyond.isEmpty);
  // both past the end: clamped like the reference, but marked so that a consumer refuses them (INVALID_VIEW)
  t.true(beyond.truncated);
  t.true(clamped.truncated);
  t.false(a.truncated);
  const strided = D.makeStridedView(0, 4, 64, 192); // 4*256 = 1024 exactly: allowed
  t.is(strided.size, 256);
  t.is(strided.location, 'test_location');
  t.deepEqual(strided.flatten(), [
    [0, 64],
    [256, 64],
    [512, 64],
    [768, 64],
  ]);
  t.throws(() => D.makeStridedView(0, 4, 128, 192), isInvalidView('Invalid strided view: would go out of bounds'));
  const u = D.makeUnstructuredView([
    [0, 100],
    [200, 100],
    [400, 100],
  ]);
  t.is(u.size, 300);
  t.is(u.location, 'test_location');
  const oob = t.throws(
    () =>
      D.makeUnstructuredView([
        [0, 100],
        [200, 100],
        [1000, 200],
      ]),
    isInvalidView('Invalid unstructured view: would go out of bounds'),
  );
  t.is((oob as DiasporaError).code, ErrorCode.INVALID_VIEW);
  const overlap = t.throws(
    () =>
      D.makeUnstructuredView([
        [0, 200],
        [100, 200],
      ]),
    isInvalidView('Invalid unstructured view: segments overlapping or out of order'),
  );
  t.is((overlap as DiasporaError).code, ErrorCode.INVALID_VIEW);
});

test('single level: header-comment examples (26 bytes)', (t) => {
  const D = new DataDescriptor('', 26);
  t.is(pick(AZ, D.makeSubView(4, 8)), 'EFGHIJKL');
  const s = D.makeStridedView(1, 5, 2, 3); // 1 + 5*5 = 26: allowed
  t.is(pick(AZ, s), 'BCGHLMQRVW');
  t.deepEqual(s.flatten(), [
    [1, 2],
    [6, 2],
    [11, 2],
    [16, 2],
    [21, 2],
  ]);
  const u = D.makeUnstructuredView([
    [1, 3],
    [7, 5],
    [14, 2],
  ]);
  t.is(u.size, 10);
  t.is(pick(AZ, u), 'BCDHIJKLOP');
});

test('single level edge rules kept from the reference', (t) => {
  const D = new DataDescriptor('loc', 100);
  // makeSubView: size 0 or empty parent -> EMPTY; offset == size -> EMPTY too (the reference keeps a size-0 view
  // with the location, whose flatten differs from the empty descriptor's; we make every empty view EMPTY)
  t.is(D.makeSubView(10, 0), DataDescriptor.EMPTY);
  for (const past of [DataDescriptor.EMPTY.makeSubView(0, 5), D.makeSubView(100, 5)]) {
    t.true(past.isEmpty && past.truncated, 'empty, and marked as asking past the end');
  }
  t.false(DataDescriptor.EMPTY.truncated);
  t.is(D.makeSubView(99, 5).size, 1);
  // strided: offset > size, 0 blocks or 0 block size -> EMPTY; the trailing gap counts in the bounds check
  t.is(D.makeStridedView(101, 1, 1, 0), DataDescriptor.EMPTY);
  t.is(D.makeStridedView(0, 0, 1, 0), DataDescriptor.EMPTY);
  t.is(D.makeStridedView(0, 1, 0, 0), DataDescriptor.EMPTY);
  t.throws(() => D.makeStridedView(90, 2, 5, 1), isInvalidView('Invalid strided view: would go out of bounds'));
  t.deepEqual(D.makeStridedView(90, 2, 5, 0).flatten(), [[90, 10]]); // no gap: blocks merge
  t.throws(() => D.makeStridedView(0, 2 ** 40, 2 ** 20, 0), { instanceOf: DiasporaError });
  // unstructured: empty list -> EMPTY; adjacent pieces merge; one merged piece -> a sub view
  t.is(D.makeUnstructuredView([]), DataDescriptor.EMPTY);
  t.is(D.makeUnstructuredView([[0, 0]]), DataDescriptor.EMPTY);
  const merged = D.makeUnstructuredView([
    [10, 5],
    [15, 5],
    [20, 0],
    [20, 3],
  ]);
  t.deepEqual(merged.flatten(), [[10, 13]]);
  t.deepEqual(merged.selections, [{ kind: 'sub', offset: 10, size: 13 }]);
  t.is(
    D.makeUnstructuredView([
      [1, 0],
      [3, 0],
    ]),
    DataDescriptor.EMPTY,
  );
  t.throws(() => D.makeUnstructuredView([[100, 0]]), isInvalidView('Invalid unstructured view: would go out of bounds'));
  t.throws(
    () =>
      D.makeUnstructuredView([
        [20, 5],
        [10, 5],
      ]),
    isInvalidView('Invalid unstructured view: segments overlapping or out of order'),
  );
  t.throws(() => DataDescriptor.EMPTY.makeUnstructuredView([[0, 0]]), { instanceOf: DiasporaError });
});

test('composition is relative: the API.md 2.4 examples with the intended results', (t) => {
  const D26 = new DataDescriptor('', 26);
  const a = D26.makeSubView(4, 8).makeSubView(2, 3);
  t.is(a.size, 3);
  t.deepEqual(a.flatten(), [[6, 3]]);
  t.is(pick(AZ, a), 'GHI');

  const D = new DataDescriptor('', 100);
  t.deepEqual(D.makeSubView(32, 20).makeStridedView(0, 2, 4, 6).flatten(), D.makeStridedView(32, 2, 4, 6).flatten());
  t.deepEqual(D.makeStridedView(32, 2, 4, 6).flatten(), [
    [32, 4],
    [42, 4],
  ]);
  t.deepEqual(D.makeSubView(10, 50).makeSubView(20, 10).flatten(), [[30, 10]]);
  const strideThenSub = D.makeStridedView(0, 10, 5, 5).makeSubView(3, 40);
  t.is(strideThenSub.size, 40);
  t.deepEqual(strideThenSub.flatten(), [
    [3, 2],
    [10, 5],
    [20, 5],
    [30, 5],
    [40, 5],
    [50, 5],
    [60, 5],
    [70, 5],
    [80, 3],
  ]);
  t.deepEqual(
    D.makeUnstructuredView([
      [0, 10],
      [20, 5],
    ])
      .makeSubView(5, 10)
      .flatten(),
    [
      [5, 5],
      [20, 5],
    ],
  );
  // "hello": sub(1,3).sub(1,2) is "ll" (the reference delivers "el")
  t.is(pick('hello', new DataDescriptor('', 5).makeSubView(1, 3).makeSubView(1, 2)), 'll');
  // bounds of a view of a view are those of the parent view
  t.throws(() => D.makeSubView(10, 20).makeStridedView(0, 3, 5, 2), { instanceOf: DiasporaError });
  t.throws(
    () =>
      D.makeStridedView(0, 10, 5, 5).makeUnstructuredView([
        [0, 5],
        [45, 6],
      ]),
    isInvalidView('Invalid unstructured view: would go out of bounds'),
  );
});

test('composition: the image rectangle of the user page, both ways', (t) => {
  const W = 16;
  const H = 9;
  const image = Buffer.alloc(W * H);
  for (let i = 0; i < image.length; i++) image[i] = i;
  const [x, y, w, h] = [3, 2, 5, 4];
  const D = new DataDescriptor('', W * H);
  const twoSteps = D.makeSubView(y * W + x, W * h).makeStridedView(0, h, w, W - w);
  const oneStep = D.makeStridedView(y * W + x, h, w, W - w);
  t.deepEqual(twoSteps.flatten(), oneStep.flatten());
  const expected: number[] = [];
  for (let row = y; row < y + h; row++) for (let col = x; col < x + w; col++) expected.push(row * W + col);
  t.deepEqual(
    twoSteps.flatten().flatMap(([o, s]) => [...image.subarray(o, o + s)]),
    expected,
  );
});

test('selections() lists the stack in parent coordinates', (t) => {
  const d = new DataDescriptor('x', 100).makeSubView(10, 50).makeStridedView(0, 2, 4, 6);
  t.deepEqual(d.selections, [
    { kind: 'sub', offset: 10, size: 50 },
    { kind: 'strided', offset: 0, numBlocks: 2, blockSize: 4, gapSize: 6 },
  ]);
  t.deepEqual(new DataDescriptor('x', 100).selections, []);
});

test('deep chains stay cheap and correct', (t) => {
  let d = new DataDescriptor('', 1_000_000);
  for (let i = 0; i < 2_000; i++) d = d.makeSubView(1, d.size - 2);
  t.is(d.size, 1_000_000 - 4_000);
  t.deepEqual(d.flatten(), [[2_000, 1_000_000 - 4_000]]);
  t.is(d.selections.length, 2_000);
});

test('wrong argument types are TypeErrors', (t) => {
  const D = new DataDescriptor('', 100);
  const bad: unknown[] = [-1, 1.5, Number.NaN, Infinity, '3', 2 ** 53, undefined, null];
  for (const v of bad) {
    t.throws(() => D.makeSubView(v as number, 1), { instanceOf: TypeError });
    t.throws(() => D.makeSubView(0, v as number), { instanceOf: TypeError });
    t.throws(() => D.makeStridedView(0, 1, 1, v as number), { instanceOf: TypeError });
    t.throws(() => D.makeUnstructuredView([[v as number, 1]]), { instanceOf: TypeError });
    if (v !== undefined) t.throws(() => new DataDescriptor('', v as number), { instanceOf: TypeError });
  }
  t.throws(() => new DataDescriptor(5 as unknown as string, 1), { instanceOf: TypeError });
  t.throws(() => D.makeUnstructuredView('nope' as unknown as []), { instanceOf: TypeError });
  t.throws(() => D.makeUnstructuredView([[1, 2, 3]] as unknown as [number, number][]), { instanceOf: TypeError });
});

test('save: the reference byte layout (API.md 2.5)', (t) => {
  t.deepEqual(Buffer.from(new DataDescriptor().save()), Buffer.alloc(32));
  const d = new DataDescriptor('ab', 100).makeSubView(10, 50).makeStridedView(0, 2, 4, 6);
  const bytes = Buffer.from(d.save());
  t.is(bytes.length, 84);
  const u64 = (v: number) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    return b;
  };
  const expected = Buffer.concat([
    u64(8),
    u64(100),
    u64(2),
    Buffer.from('ab'),
    u64(2),
    Buffer.from([1]),
    u64(10),
    u64(50),
    Buffer.from([2]),
    u64(0),
    u64(2),
    u64(4),
    u64(6),
  ]);
  t.deepEqual(bytes, expected);
});

test('save/load round trip keeps location, sizes, stack and selection', (t) => {
  const cases = [
    new DataDescriptor(),
    new DataDescriptor('é-location', 1234),
    new DataDescriptor('x', 1000).makeSubView(100, 500),
    new DataDescriptor('x', 1000).makeSubView(999, 5),
    new DataDescriptor('x', 1000).makeStridedView(7, 10, 30, 60).makeUnstructuredView([
      [0, 3],
      [10, 40],
      [200, 1],
    ]),
    new DataDescriptor('', 2 ** 40).makeStridedView(2 ** 39, 3, 2 ** 20, 2 ** 30).makeSubView(5, 2 ** 21),
  ];
  for (const d of cases) {
    const bytes = d.save();
    const back = DataDescriptor.load(bytes);
    t.is(back.location, d.location);
    t.is(back.size, d.size);
    t.is(back.baseSize, d.baseSize);
    t.deepEqual(back.selections, d.selections);
    t.deepEqual(back.flatten(), d.flatten());
    t.deepEqual(Buffer.from(back.save()), Buffer.from(bytes));
  }
});

test('load rejects garbage with INVALID_VIEW', (t) => {
  const good = Buffer.from(
    new DataDescriptor('ab', 100)
      .makeSubView(10, 50)
      .makeUnstructuredView([
        [0, 2],
        [4, 2],
      ])
      .save(),
  );
  const rejects = (bytes: Uint8Array, why: string) => {
    const err = t.throws(() => DataDescriptor.load(bytes), { instanceOf: DiasporaError }, why);
    t.is((err as DiasporaError).code, ErrorCode.INVALID_VIEW, why);
  };
  for (let n = 0; n < good.length; n++) rejects(good.subarray(0, n), `prefix of ${n} bytes`);
  rejects(Buffer.concat([good, Buffer.from([0])]), 'trailing byte');
  const selectionsAt = 24 + 2 + 8; // three u64 header fields, 'ab', the selection count
  const tag = Buffer.from(good);
  tag[selectionsAt + 17] = 9; // second selection's tag
  rejects(tag, 'unknown tag');
  const size = Buffer.from(good);
  size[0] = 5;
  rejects(size, 'size does not match');
  const huge = Buffer.from(good);
  huge.writeUInt32LE(0xffffffff, 12); // base size above 2^53
  rejects(huge, 'number above 2^53');
  const outOfBounds = Buffer.from(good);
  outOfBounds.writeUInt32LE(60, selectionsAt + 1); // sub(60, 50) on 100 bytes -> clamped size, mismatch
  rejects(outOfBounds, 'inconsistent sub view');
  const overlap = Buffer.from(good);
  overlap.writeUInt32LE(1, selectionsAt + 17 + 1 + 8 + 16); // second piece at 1 overlaps [0,2)
  rejects(overlap, 'overlapping unstructured');
  const badUtf8 = Buffer.from(good);
  badUtf8[24] = 0xff;
  rejects(badUtf8, 'location not UTF-8');
  const manySelections = Buffer.from(new DataDescriptor('', 10).save());
  manySelections.writeUInt32LE(0xffffffff, 24);
  rejects(manySelections, 'absurd selection count');
  t.throws(() => DataDescriptor.load('nope' as unknown as Uint8Array), { instanceOf: TypeError });
});
