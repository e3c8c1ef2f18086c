import test from 'ava';
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { NATIVE_FROM, crc32Ranges, crcRangesUsesWasm } from '../../storage/crc-ranges.js';
import { CRC_RANGES_WASM_BASE64 } from '../../storage/crc-ranges-wasm.js';
import { assembleCrcRanges } from '../../scripts/tools/build-wasm.js';

const MODULE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../storage/crc-ranges.js');

/** What crc32Ranges must answer: zlib's CRC of each range. */
function expected(bytes: Uint8Array, start: number, lengths: readonly number[], from: number, to: number): number[] {
  const out: number[] = [];
  let pos = start;
  for (let k = from; k < to; k++) {
    out.push(zlib.crc32(bytes.subarray(pos, pos + lengths[k]!)) >>> 0);
    pos += lengths[k]!;
  }
  return out;
}

test('the WebAssembly path is in use on little-endian hosts', (t) => {
  // On x64 and arm64 it must load: if it silently did not, producers would lose its speed without a failing test.
  if (process.arch !== 'x64' && process.arch !== 'arm64') return t.pass();
  t.true(crcRangesUsesWasm());
});

test('the embedded module is what crc-ranges.wat assembles to (regenerate with scripts/tools/build-wasm)', async (t) => {
  t.is(Buffer.from(await assembleCrcRanges()).toString('base64'), CRC_RANGES_WASM_BASE64);
});

test('each range gets zlib\'s CRC, short and long, empty, from any start and any first range', (t) => {
  const ranges = fc.array(fc.oneof(fc.nat({ max: 40 }), fc.nat({ max: NATIVE_FROM + 40 }), fc.nat({ max: 3000 })), { maxLength: 40 });
  fc.assert(fc.property(ranges, fc.nat({ max: 17 }), fc.nat(), fc.nat(), (lengths, start, a, b) => {
    const total = lengths.reduce((s, l) => s + l, 0);
    const bytes = new Uint8Array(start + total + 5);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 131 + a) & 255;
    const from = lengths.length === 0 ? 0 : a % (lengths.length + 1);
    const to = from + (lengths.length === 0 ? 0 : b % (lengths.length - from + 1));
    // `start` is where range `from` begins (the ranges before it are not in `bytes`' run).
    const out = new Uint32Array(to - from);
    crc32Ranges(bytes, start, lengths, from, to, out);
    t.deepEqual([...out], expected(bytes, start, lengths, from, to));
  }), { numRuns: 400 });
});

test('a run bigger than one call takes (more ranges, more bytes) is split without losing a range', (t) => {
  for (const [count, length] of [[5000, 10], [3000, 200], [40, 255]] as const) {
    const lengths = Array.from({ length: count }, (_, k) => (k * 7919) % (length + 1));
    const total = lengths.reduce((s, l) => s + l, 0);
    const bytes = Buffer.alloc(total);
    for (let i = 0; i < total; i++) bytes[i] = (i * 2654435761) >>> 24;
    const out = new Uint32Array(count);
    crc32Ranges(bytes, 0, lengths, 0, count, out);
    t.deepEqual([...out], expected(bytes, 0, lengths, 0, count), `${count} ranges of up to ${length} bytes`);
  }
});

test('a flipped bit changes the CRC of its range only', (t) => {
  const lengths = [128, 128, 128, 64, 300];
  const bytes = Buffer.alloc(748, 0x41);
  const before = new Uint32Array(5);
  crc32Ranges(bytes, 0, lengths, 0, 5, before);
  bytes[128 + 77]! ^= 0x04; // range 1
  const after = new Uint32Array(5);
  crc32Ranges(bytes, 0, lengths, 0, 5, after);
  t.deepEqual([0, 2, 3, 4].map((k) => after[k]), [0, 2, 3, 4].map((k) => before[k]));
  t.not(after[1], before[1]);
});

test('without WebAssembly (node --jitless) the same values come from the native CRC', (t) => {
  const script = `
    const { crc32Ranges, crcRangesUsesWasm } = await import(${JSON.stringify(MODULE)});
    const bytes = Buffer.from('123456789'.repeat(60));
    const out = new Uint32Array(3);
    crc32Ranges(bytes, 0, [9, 0, 500], 0, 3, out);
    console.log(JSON.stringify({ wasm: crcRangesUsesWasm(), out: [...out] }));`;
  const res = JSON.parse(execFileSync(process.execPath, ['--jitless', '--input-type=module', '-e', script], { encoding: 'utf8' }));
  const bytes = Buffer.from('123456789'.repeat(60));
  t.false(res.wasm);
  t.deepEqual(res.out, [0xcbf43926, 0, zlib.crc32(bytes.subarray(9, 509)) >>> 0]);
});
