import test from 'ava';
import fc from 'fast-check';
import zlib from 'node:zlib';
import { NATIVE_CRC32, crc32, crc32Combine, crc32Pieces, crc32Range } from '../../storage/crc.js';

test('the SIMD CRC-32 (@node-rs/crc32) is the one in use on linux-x64', (t) => {
  // Its prebuilt binary is an optional dependency: if npm ci skipped it here, checksums would silently get 2x slower.
  if (process.platform !== 'linux' || process.arch !== 'x64') return t.pass();
  t.is(NATIVE_CRC32, '@node-rs/crc32');
});

test('crc32 agrees with zlib on both sides of the native threshold, from any start value', (t) => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 5000 }), fc.nat({ max: 300 }), fc.nat(), (bytes, skip, seed) => {
    const s = Math.min(skip, bytes.length);
    const start = seed >>> 0;
    // zlib answers 0 for an empty input whatever the start value; continuing over nothing keeps the start value.
    const expected = (b: Uint8Array): number => (b.length === 0 ? start : zlib.crc32(b, start) >>> 0);
    t.is(crc32Range(bytes, s, bytes.length, start), expected(bytes.subarray(s)));
    t.is(crc32(bytes, start), expected(bytes));
  }), { numRuns: 300 });
});

test('crc32Pieces equals the CRC of the pieces concatenated', (t) => {
  fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 400 }), { maxLength: 6 }), (pieces) => {
    t.is(crc32Pieces(pieces), zlib.crc32(Buffer.concat(pieces)) >>> 0);
  }), { numRuns: 200 });
});

test('a 1 MiB input: every single flipped bit in a sampled position changes the CRC', (t) => {
  const big = Buffer.alloc(1 << 20);
  for (let i = 0; i < big.length; i += 4) big.writeUInt32LE((i * 2654435761) >>> 0, i);
  const good = crc32(big);
  t.is(good, zlib.crc32(big) >>> 0);
  for (const at of [0, 1, 4095, 65_536, 777_777, big.length - 1]) {
    big[at]! ^= 0x10;
    t.not(crc32(big), good, `flip at ${at}`);
    big[at]! ^= 0x10;
  }
});

test('crc32Combine gives the CRC of the concatenation, for any lengths', (t) => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 3000 }), fc.uint8Array({ maxLength: 3000 }), (a, b) => {
    t.is(crc32Combine(crc32(a), crc32(b), b.length), crc32(Buffer.concat([a, b])));
  }), { numRuns: 300 });
  // A long B (many levels of the zero operator) and a run of several parts.
  const parts = [Buffer.alloc(1 << 20, 7), Buffer.from('x'), Buffer.alloc(65_537, 3), Buffer.alloc(0), Buffer.alloc((1 << 24) + 12_345, 0x5a)];
  let acc = crc32(parts[0]!);
  for (const p of parts.slice(1)) acc = crc32Combine(acc, crc32(p), p.length);
  t.is(acc, crc32(Buffer.concat(parts)));
});
