// One-piece views: the descriptor keeps a contiguous selection as a single (start, size) piece whichever way it was
// made (sub view, gapless or one-block strided view, merged unstructured view, a view mapped into one piece of a
// multi-piece parent), and sub views of it are mapped without arrays. Asking a descriptor for the same sub view
// again may return the same (immutable) object. Every case is checked against flatten() and the selections stack.
import test from 'ava';
import { DataDescriptor } from '../../../lib/data/data-descriptor.js';
import { AZ, pick } from './pick.js';

test('contiguous views made in every way are one piece, and their sub views map from its start', (t) => {
  const D = new DataDescriptor('loc', 26);
  const made = [
    D.makeSubView(4, 10),
    D.makeStridedView(4, 2, 5, 0), // blocks touch: one piece
    D.makeStridedView(4, 1, 10, 0),
    D.makeUnstructuredView([
      [4, 3],
      [7, 7],
    ]), // merges into one piece: the equivalent sub view
    D.makeStridedView(0, 13, 1, 1).makeSubView(2, 1), // one byte out of a 13-piece parent
  ];
  for (const v of made.slice(0, 4)) {
    t.deepEqual(v.flatten(), [[4, 10]]);
    t.is(v.pieceCount, 1);
    t.is(v.pieceOffset(0), 4);
    t.is(v.pieceSize(0), 10);
    t.false(v.isFull);
    t.is(pick(AZ, v.makeSubView(3, 4)), 'HIJK');
    t.deepEqual(v.makeSubView(3, 4).flatten(), [[7, 4]]);
    t.is(pick(AZ, v.makeSubView(8, 100)), 'MN'); // clamped
    t.is(pick(AZ, v.makeStridedView(1, 3, 2, 1)), 'FGIJLM');
    t.is(pick(AZ, v.makeUnstructuredView([[0, 1], [9, 1]])), 'EN');
    t.is(v.location, 'loc');
    t.is(v.baseSize, 26);
  }
  t.deepEqual(made[4].flatten(), [[4, 1]]);
  t.is(pick(AZ, made[4].makeSubView(0, 1)), 'E');
  t.deepEqual(made[4].selections, [
    { kind: 'strided', offset: 0, numBlocks: 13, blockSize: 1, gapSize: 1 },
    { kind: 'sub', offset: 2, size: 1 },
  ]);
});

test('a one-piece view of all the data is full; the whole and empty descriptors keep their pieces', (t) => {
  const D = new DataDescriptor('', 26);
  t.true(D.isFull);
  t.true(D.makeSubView(0, 26).isFull);
  t.true(D.makeStridedView(0, 2, 13, 0).isFull);
  t.false(D.makeStridedView(0, 2, 12, 1).isFull);
  t.deepEqual(D.flatten(), [[0, 26]]);
  t.is(D.pieceCount, 1);
  const none = new DataDescriptor('x', 0);
  t.true(none.isFull);
  t.is(none.pieceCount, 0);
  t.deepEqual(none.flatten(), []);
  t.is(DataDescriptor.EMPTY.pieceCount, 0);
});

test('sub views record the offset they were asked for and the clamped size, at every level', (t) => {
  const D = new DataDescriptor('', 100);
  const chain = D.makeStridedView(0, 10, 5, 5).makeSubView(3, 40).makeSubView(2, 1000).makeSubView(0, 3);
  t.deepEqual(chain.selections, [
    { kind: 'strided', offset: 0, numBlocks: 10, blockSize: 5, gapSize: 5 },
    { kind: 'sub', offset: 3, size: 40 },
    { kind: 'sub', offset: 2, size: 38 },
    { kind: 'sub', offset: 0, size: 3 },
  ]);
  t.deepEqual(chain.flatten(), [[10, 3]]);
  t.true(DataDescriptor.load(chain.save()).flatten().length === 1);
  t.deepEqual(DataDescriptor.load(chain.save()).selections, chain.selections);
});

test('the same sub view asked again of one descriptor is the same immutable object; others are not mixed up', (t) => {
  const D = new DataDescriptor('', 26);
  const a = D.makeSubView(2, 5);
  t.is(D.makeSubView(2, 5), a);
  t.is(D.makeSubView(2, 6).size, 6);
  t.not(D.makeSubView(2, 5), D.makeSubView(2, 6));
  // Same arguments on another descriptor of the same size, or on one with other pieces: its own view.
  const E = new DataDescriptor('', 26);
  t.not(E.makeSubView(2, 5), a);
  t.deepEqual(E.makeSubView(2, 5).flatten(), [[2, 5]]);
  const S = D.makeStridedView(0, 13, 1, 1);
  t.deepEqual(S.makeSubView(2, 5).flatten(), [
    [4, 1],
    [6, 1],
    [8, 1],
    [10, 1],
    [12, 1],
  ]);
  t.deepEqual(D.makeSubView(2, 5).flatten(), [[2, 5]]);
  // A request clamped to the same size is the same view.
  // same bytes, but one asked past the end: not the same object, only the second is truncated
  t.not(D.makeSubView(24, 2), D.makeSubView(24, 50));
  t.false(D.makeSubView(24, 2).truncated);
  t.true(D.makeSubView(24, 50).truncated);
  t.true(D.makeSubView(24, 50).makeSubView(0, 1).truncated, 'inherited by the views made from it');
  t.deepEqual(D.makeSubView(24, 50).selections, [{ kind: 'sub', offset: 24, size: 2 }]);
});
