// DataView: segments, size, read/write across segment boundaries (the reference's overrun, API.md 7.1.3), toBuffer.
import test from 'ava';
import fc from 'fast-check';
import { DataView } from '../../../lib/data/data-view.js';

/** Cuts `bytes` into segments at the given sorted positions (copies, so the view owns separate memory). */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [0, ...cuts.map((c) => c % (bytes.length + 1)).sort((a, b) => a - b), bytes.length];
  const out: Uint8Array[] = [];
  for (let i = 0; i + 1 < points.length; i++) out.push(Uint8Array.from(bytes.subarray(points[i], points[i + 1])));
  return out;
}

test('constructors, segments and size', (t) => {
  t.is(new DataView().size, 0);
  t.deepEqual(new DataView().segments, []);
  t.is(DataView.EMPTY.size, 0);
  t.true(Object.isFrozen(DataView.EMPTY));
  const one = Buffer.from('hello');
  const v1 = new DataView(one);
  t.is(v1.size, 5);
  t.is(v1.segments[0], one);
  const list = [Buffer.from('ab'), new Uint8Array(0), Buffer.from('cde')];
  const v2 = new DataView(list);
  t.is(v2.size, 5);
  t.is(v2.segments.length, 3);
  list.push(Buffer.from('later')); // the view copied the list, not the bytes
  t.is(v2.segments.length, 3);
  t.is(v2.segments[0], list[0]);
  t.throws(() => new DataView('abc' as unknown as Uint8Array), { instanceOf: TypeError });
  t.throws(() => new DataView([Buffer.from('a'), 'b'] as unknown as Uint8Array[]), { instanceOf: TypeError });
  t.throws(() => new DataView(new Uint16Array(2) as unknown as Uint8Array), { instanceOf: TypeError });
});

test('read and write inside a later segment do not overrun (reference bug 7.1.3)', (t) => {
  const a = Buffer.from('0123');
  const b = Buffer.from('4567');
  const c = Buffer.from('89');
  const v = new DataView([a, b, c]);
  t.is(v.read(2, 4).toString(), '2345');
  t.is(v.read(5, 2).toString(), '56');
  t.is(v.read(7).toString(), '789');
  t.is(v.read(8, 100).toString(), '89'); // clamped
  t.is(v.read(10).length, 0);
  t.is(v.read(50).length, 0);
  t.is(v.write(Buffer.from('xy'), 3), 2); // crosses a|b
  t.is(a.toString() + b.toString() + c.toString(), '012xy56789');
  t.is(v.write(Buffer.from('PQRSTUVW'), 5), 5); // clamped at the end
  t.is(Buffer.concat([a, b, c]).toString(), '012xyPQRST');
  t.is(v.write(Buffer.from('z'), 10), 0);
  t.is(v.write(Buffer.from('z'), 99), 0);
  t.throws(() => v.read(-1), { instanceOf: TypeError });
  t.throws(() => v.read(0, 1.5), { instanceOf: TypeError });
  t.throws(() => v.write('text' as unknown as Uint8Array), { instanceOf: TypeError });
  t.throws(() => v.write(Buffer.from('a'), -2), { instanceOf: TypeError });
});

test('toBuffer: no copy for one segment, concatenation otherwise', (t) => {
  const backing = new Uint8Array(16).fill(7);
  const slice = backing.subarray(4, 10);
  const out = new DataView(slice).toBuffer();
  t.is(out.buffer, backing.buffer);
  t.is(out.byteOffset, 4);
  t.is(out.length, 6);
  const buf = Buffer.from('same');
  t.is(new DataView(buf).toBuffer(), buf);
  t.is(new DataView([Buffer.from('ab'), Buffer.from('cd')]).toBuffer().toString(), 'abcd');
  t.is(new DataView().toBuffer().length, 0);
});

test('property: read equals the same range of the concatenated bytes', (t) => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 64 }),
      fc.array(fc.nat(), { maxLength: 6 }),
      fc.nat(80),
      fc.option(fc.nat(80), { nil: undefined }),
      (bytes, cuts, offset, size) => {
        const view = new DataView(split(bytes, cuts));
        const plain = Buffer.from(bytes);
        const end = size === undefined ? plain.length : offset + size;
        return view.read(offset, size).equals(plain.subarray(offset, end));
      },
    ),
  );
  t.pass();
});

test('property: write equals writing the same bytes into one plain buffer', (t) => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 64 }),
      fc.array(fc.nat(), { maxLength: 6 }),
      fc.uint8Array({ maxLength: 40 }),
      fc.nat(80),
      (bytes, cuts, source, offset) => {
        const segments = split(bytes, cuts);
        const view = new DataView(segments);
        const plain = Buffer.from(bytes);
        const expectedCount = Math.max(0, Math.min(source.length, plain.length - offset));
        if (expectedCount > 0) plain.set(source.subarray(0, expectedCount), offset);
        const written = view.write(source, offset);
        return written === expectedCount && Buffer.concat(segments).equals(plain) && view.toBuffer().equals(plain);
      },
    ),
  );
  t.pass();
});
