// CRC-32 (IEEE, the zlib polynomial). Large inputs go to a native implementation; small ones (index entries,
// typical metadata) are computed here, since a native call's fixed cost (~70 ns) dominates below ~100 bytes.
// The native one is @node-rs/crc32 (SIMD carry-less multiply, ~17 GB/s here, 2.3x node:zlib's crc32); where its
// prebuilt binary is not available for the platform, node:zlib's crc32 (same polynomial, same values) is used.
import { createRequire } from 'node:module';
import zlib from 'node:zlib';

type NativeCrc32 = (input: Uint8Array, initial?: number) => number;

function loadNative(): { crc32: NativeCrc32; name: string } {
  try {
    const mod = createRequire(import.meta.url)('@node-rs/crc32') as { crc32: NativeCrc32 };
    // A binary that loads but computes something else must not be trusted: check a known value.
    if (mod.crc32(Buffer.from('123456789')) === 0xcbf43926) return { crc32: mod.crc32, name: '@node-rs/crc32' };
  } catch {
    // No binary for this platform: fall through.
  }
  return { crc32: (input, initial) => zlib.crc32(input, initial), name: 'node:zlib' };
}

const native = loadNative();
const nativeCrc32 = native.crc32;
/** Which native CRC-32 is in use (for benchmarks and diagnostics). */
export const NATIVE_CRC32 = native.name;

const SMALL = 112;
/**
 * Fills `count` slicing tables into `table` (count * 256 entries): table k holds, for each byte b, the CRC register
 * after b is followed by k zero bytes (table 0 is the plain byte table).
 */
export function fillSlicingTables(table: Int32Array | Uint32Array, count: number): void {
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  for (let k = 1; k < count; k++) {
    for (let n = 0; n < 256; n++) {
      const prev = table[(k - 1) * 256 + n]!;
      table[k * 256 + n] = (prev >>> 8) ^ table[prev & 255]!;
    }
  }
}

// Slicing-by-4 tables: TABLE[k * 256 + b].
const TABLE = new Int32Array(1024);
fillSlicingTables(TABLE, 4);

/** CRC-32 of bytes [start, end) of `buf`, continuing from `previous` (0 to start). */
export function crc32Range(buf: Uint8Array, start: number, end: number, previous = 0): number {
  if (end - start >= SMALL) return nativeCrc32(buf.subarray(start, end), previous) >>> 0;
  const t = TABLE;
  let c = ~previous;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    c ^= buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24);
    c = t[768 + (c & 255)]! ^ t[512 + ((c >>> 8) & 255)]! ^ t[256 + ((c >>> 16) & 255)]! ^ t[c >>> 24]!;
  }
  for (; i < end; i++) c = t[(c ^ buf[i]!) & 255]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** CRC-32 of `count` little-endian 32-bit words from `w[start]` (the bytes of those words on an LE host). */
export function crc32Words(w: Uint32Array, start: number, count: number): number {
  const t = TABLE;
  let c = -1;
  for (let i = start, end = start + count; i < end; i++) {
    c ^= w[i]!;
    c = t[768 + (c & 255)]! ^ t[512 + ((c >>> 8) & 255)]! ^ t[256 + ((c >>> 16) & 255)]! ^ t[c >>> 24]!;
  }
  return ~c >>> 0;
}

/** CRC-32 of `bytes`, continuing from `previous` (0 to start). */
export function crc32(bytes: Uint8Array, previous = 0): number {
  if (bytes.length >= SMALL) return nativeCrc32(bytes, previous) >>> 0;
  return crc32Range(bytes, 0, bytes.length, previous);
}

/** CRC-32 of several pieces stored back to back, as if they were one array. */
export function crc32Pieces(pieces: readonly Uint8Array[]): number {
  let crc = 0;
  for (const piece of pieces) crc = crc32(piece, crc);
  return crc;
}

// Combining: the CRC of A followed by B from the CRCs of A and B and the length of B. Appending n zero bytes to a
// CRC register is linear over GF(2); ZEROS holds that operator for n = 2^k (k = 0..MAX_LEVEL-1), each as four
// 256-entry tables (one per byte of the register, like the slicing tables). Levels are built on first use.
const MAX_LEVEL = 31; // lengths below 2^31 (a data part is at most 1 GiB)
const ZEROS = new Int32Array(MAX_LEVEL * 1024);
let zeroLevels = 0;

function applyLevel(level: number, r: number): number {
  const z = ZEROS;
  const at = level * 1024;
  return z[at + (r & 255)]! ^ z[at + 256 + ((r >>> 8) & 255)]! ^ z[at + 512 + ((r >>> 16) & 255)]! ^ z[at + 768 + (r >>> 24)]!;
}

function buildZeroLevels(upTo: number): void {
  for (; zeroLevels < upTo; zeroLevels++) {
    const at = zeroLevels * 1024;
    for (let j = 0; j < 4; j++) {
      const table = at + j * 256;
      // The operator is linear over GF(2): a byte's entry is the XOR of its bits' entries. So each byte position's
      // table costs 8 operator applications (one per bit) and one XOR per entry, not two applications per entry.
      ZEROS[table] = 0;
      for (let bit = 0; bit < 8; bit++) {
        const r = (1 << (8 * j + bit)) >>> 0;
        // Level 0: one zero byte through the plain table. Level k: level k-1 applied twice.
        ZEROS[table + (1 << bit)] =
          zeroLevels === 0 ? (r >>> 8) ^ TABLE[r & 255]! : applyLevel(zeroLevels - 1, applyLevel(zeroLevels - 1, r));
      }
      for (let b = 3; b < 256; b++) {
        const low = b & -b;
        if (low !== b) ZEROS[table + b] = ZEROS[table + low]! ^ ZEROS[table + (b ^ low)]!;
      }
    }
  }
}

/** CRC-32 of A‖B given crcA = CRC-32(A), crcB = CRC-32(B) and B's length in bytes (as zlib's crc32_combine). */
export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  if (!Number.isInteger(lengthB) || lengthB < 0 || lengthB >= 2 ** MAX_LEVEL) throw new RangeError(`bad length ${lengthB}`);
  // Levels up to the highest set bit of lengthB (below 2^31: plain 32-bit bit operations are exact).
  if (lengthB >= 1 << zeroLevels) buildZeroLevels(32 - Math.clz32(lengthB));
  let r = crcA | 0;
  let level = 0;
  for (let n = lengthB; n !== 0; n >>>= 1, level++) if ((n & 1) !== 0) r = applyLevel(level, r);
  return (r ^ crcB) >>> 0;
}
