// CRC-32 of each of many consecutive byte ranges (a batch's metadata, one range per event) with as few calls as
// possible. A native CRC call costs ~110-150 ns whatever the length, so a producer of 128-byte metadata spent a
// sixth of its time on one call per event; the WebAssembly of crc-ranges.wat does a chunk of short ranges in one
// call (~60 ns per 128 bytes, slicing-by-16). Ranges of NATIVE_FROM bytes or more go to the native CRC (SIMD,
// ~17 GB/s), and so does everything where WebAssembly is unavailable (node --jitless) or the host is big-endian.
// Same values as crc.ts in every case.
import { crc32Range, fillSlicingTables } from './crc.js';
import { CRC_RANGES_WASM_BASE64 } from './crc-ranges-wasm.js';
import { HOST_IS_LE } from './index-entry.js';

/** From this length on, a range's native call costs less than its WebAssembly share. */
export const NATIVE_FROM = 256;
// The module's memory (5 pages, see the .wat): tables below TABLES_END, then the bounds, results and bytes areas.
const TABLES_END = 16 * 1024;
const MAX_RANGES = 2048;
const BOUNDS_AT = TABLES_END;
const OUT_AT = BOUNDS_AT + 4 * (MAX_RANGES + 1);
const BYTES_AT = 64 * 1024;
const MAX_BYTES = 5 * 64 * 1024 - BYTES_AT;

interface CrcModule {
  run: (bytes: number, bounds: number, n: number, out: number) => void;
  u8: Uint8Array;
  u32: Uint32Array;
}

/** The little of the WebAssembly global used here (this project's type libraries do not declare it). */
interface WasmGlobal {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: { memory: { buffer: ArrayBuffer }; crcRanges: CrcModule['run'] } };
}

function loadModule(): CrcModule | null {
  const wasmGlobal = (globalThis as { WebAssembly?: WasmGlobal }).WebAssembly;
  if (!HOST_IS_LE || wasmGlobal === undefined) return null;
  try {
    const module = new wasmGlobal.Module(Buffer.from(CRC_RANGES_WASM_BASE64, 'base64'));
    const exports = new wasmGlobal.Instance(module).exports;
    const u32 = new Uint32Array(exports.memory.buffer);
    fillSlicingTables(u32, 16);
    const m: CrcModule = { run: exports.crcRanges, u8: new Uint8Array(exports.memory.buffer), u32 };
    // A module that loads but computes something else must not be trusted: check known values.
    const probe = Buffer.from('123456789');
    const got = new Uint32Array(2);
    crcWithModule(m, probe, 0, [9, 0], 0, 2, got);
    return got[0] === 0xcbf43926 && got[1] === 0 ? m : null;
  } catch {
    return null;
  }
}

let wasm: CrcModule | null | undefined;

/** Whether the WebAssembly path is in use (for tests and diagnostics). */
export function crcRangesUsesWasm(): boolean {
  if (wasm === undefined) wasm = loadModule();
  return wasm !== null;
}

/**
 * out[k - from] = CRC-32 of range k, for k in [from, to): ranges lie back to back in `bytes` from byte `start`, range
 * k being `lengths[k]` bytes long.
 */
export function crc32Ranges(bytes: Uint8Array, start: number, lengths: ArrayLike<number>, from: number, to: number, out: Uint32Array): void {
  if (wasm === undefined) wasm = loadModule();
  if (wasm === null) {
    for (let k = from, pos = start; k < to; k++) {
      const len = lengths[k]!;
      out[k - from] = crc32Range(bytes, pos, pos + len);
      pos += len;
    }
    return;
  }
  crcWithModule(wasm, bytes, start, lengths, from, to, out);
}

function crcWithModule(m: CrcModule, bytes: Uint8Array, start: number, lengths: ArrayLike<number>, from: number, to: number, out: Uint32Array): void {
  const u32 = m.u32;
  let pos = start;
  let k = from;
  while (k < to) {
    const len = lengths[k]!;
    if (len >= NATIVE_FROM) {
      out[k - from] = crc32Range(bytes, pos, pos + len);
      pos += len;
      k++;
      continue;
    }
    // A chunk of consecutive short ranges: their bounds, then their bytes copied in (one memcpy), one call.
    let n = 0;
    let total = 0;
    u32[BOUNDS_AT >>> 2] = 0;
    while (k + n < to && n < MAX_RANGES) {
      const l = lengths[k + n]!;
      if (l >= NATIVE_FROM || total + l > MAX_BYTES) break;
      total += l;
      n++;
      u32[(BOUNDS_AT >>> 2) + n] = total;
    }
    m.u8.set(bytes.subarray(pos, pos + total), BYTES_AT);
    m.run(BYTES_AT, BOUNDS_AT, n, OUT_AT);
    out.set(u32.subarray(OUT_AT >>> 2, (OUT_AT >>> 2) + n), k - from);
    pos += total;
    k += n;
  }
}
