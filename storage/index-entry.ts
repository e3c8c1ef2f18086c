// One fixed-width index entry: the commit record of one event. Little-endian layout:
//   0 u64 metaOffset   8 u64 dataOffset   16 u32 metaLength   20 u32 dataLength
//  24 u64 timestamp   32 u32 metaCrc     36 u32 dataCrc      40 u32 flags (0)   44 u32 entryCrc (of bytes 0..43)
// u64 fields are written as two u32 halves (values stay below 2^53, plain numbers are exact).
import os from 'node:os';
import { crc32Combine, crc32Range, crc32Words } from './crc.js';

export const ENTRY_SIZE = 48;
/** An entry as 32-bit words (see allocEntryBuffer). */
export const ENTRY_WORDS = ENTRY_SIZE / 4;
const CRC_SPAN = 44;
const TWO_32 = 0x1_0000_0000;

export interface IndexEntry {
  metaOffset: number;
  dataOffset: number;
  metaLength: number;
  dataLength: number;
  timestamp: number;
  metaCrc: number;
  dataCrc: number;
  flags: number;
}

function writeU64(buf: Buffer, at: number, value: number): void {
  buf.writeUInt32LE(value % TWO_32, at);
  buf.writeUInt32LE(Math.floor(value / TWO_32), at + 4);
}

function readU64(buf: Buffer, at: number): number {
  return buf.readUInt32LE(at) + buf.readUInt32LE(at + 4) * TWO_32;
}

/** Typed-array stores are little-endian on LE hosts: the fast encoder below is only used there. */
export const HOST_IS_LE = os.endianness() === 'LE';

/** A buffer for index entries whose bytes can also be addressed as aligned 32-bit words. */
export function allocEntryBuffer(bytes: number): { buf: Buffer; words: Uint32Array } {
  const buf = Buffer.allocUnsafeSlow(Math.ceil(bytes / ENTRY_SIZE) * ENTRY_SIZE);
  return { buf, words: new Uint32Array(buf.buffer, buf.byteOffset, buf.length >>> 2) };
}

/** Same as encodeEntry, on the 32-bit word view of an entry buffer (`word` = byte offset / 4). LE hosts only. */
export function encodeEntryWords(
  w: Uint32Array, word: number,
  metaOffset: number, dataOffset: number, metaLength: number, dataLength: number,
  timestamp: number, metaCrc: number, dataCrc: number,
): void {
  w[word] = metaOffset >>> 0;
  w[word + 1] = Math.floor(metaOffset / TWO_32);
  w[word + 2] = dataOffset >>> 0;
  w[word + 3] = Math.floor(dataOffset / TWO_32);
  w[word + 4] = metaLength;
  w[word + 5] = dataLength;
  w[word + 6] = timestamp >>> 0;
  w[word + 7] = Math.floor(timestamp / TWO_32);
  w[word + 8] = metaCrc;
  w[word + 9] = dataCrc;
  w[word + 10] = 0;
  w[word + 11] = crc32Words(w, word, 11);
}

/** Writes one entry (with its own CRC) at `at`. */
export function encodeEntry(
  buf: Buffer, at: number,
  metaOffset: number, dataOffset: number, metaLength: number, dataLength: number,
  timestamp: number, metaCrc: number, dataCrc: number,
): void {
  writeU64(buf, at, metaOffset);
  writeU64(buf, at + 8, dataOffset);
  buf.writeUInt32LE(metaLength, at + 16);
  buf.writeUInt32LE(dataLength, at + 20);
  writeU64(buf, at + 24, timestamp);
  buf.writeUInt32LE(metaCrc, at + 32);
  buf.writeUInt32LE(dataCrc, at + 36);
  buf.writeUInt32LE(0, at + 40);
  buf.writeUInt32LE(crc32Range(buf, at, at + CRC_SPAN), at + CRC_SPAN);
}

/** True when the entry at `at` carries a matching CRC and a zero flags word. */
export function entryIsValid(buf: Buffer, at: number): boolean {
  return crc32Range(buf, at, at + CRC_SPAN) === buf.readUInt32LE(at + CRC_SPAN) && buf.readUInt32LE(at + 40) === 0;
}

/** entryIsValid on the 32-bit word view of an entry buffer (`word` = byte offset / 4). LE hosts only. */
export function entryWordsValid(w: Uint32Array, word: number): boolean {
  return w[word + 10] === 0 && crc32Words(w, word, 11) === w[word + 11];
}

/** Index bytes checked entry by entry, through the word view where the host allows it (no per-byte reads). */
export function entryValidAt(buf: Buffer, words: Uint32Array, at: number): boolean {
  return HOST_IS_LE && (at & 3) === 0 ? entryWordsValid(words, at >>> 2) : entryIsValid(buf, at);
}

export function decodeEntry(buf: Buffer, at: number): IndexEntry {
  return {
    metaOffset: readU64(buf, at),
    dataOffset: readU64(buf, at + 8),
    metaLength: buf.readUInt32LE(at + 16),
    dataLength: buf.readUInt32LE(at + 20),
    timestamp: readU64(buf, at + 24),
    metaCrc: buf.readUInt32LE(at + 32),
    dataCrc: buf.readUInt32LE(at + 36),
    flags: buf.readUInt32LE(at + 40),
  };
}

// Field readers for hot paths (no object per entry).
export const entryMetaOffset = (buf: Buffer, at: number): number => readU64(buf, at);
export const entryDataOffset = (buf: Buffer, at: number): number => readU64(buf, at + 8);
export const entryMetaLength = (buf: Buffer, at: number): number => buf.readUInt32LE(at + 16);
export const entryDataLength = (buf: Buffer, at: number): number => buf.readUInt32LE(at + 20);
export const entryTimestamp = (buf: Buffer, at: number): number => readU64(buf, at + 24);
export const entryMetaCrc = (buf: Buffer, at: number): number => buf.readUInt32LE(at + 32);
export const entryDataCrc = (buf: Buffer, at: number): number => buf.readUInt32LE(at + 36);
// The same fields from the word view of an entry buffer (`word` = byte offset / 4), LE hosts only: one typed-array
// load per u32 instead of Buffer#readUInt32LE's four byte loads and bounds checks (readers decode 6 fields per event).
export const wordsMetaOffset = (w: Uint32Array, word: number): number => w[word]! + w[word + 1]! * TWO_32;
export const wordsDataOffset = (w: Uint32Array, word: number): number => w[word + 2]! + w[word + 3]! * TWO_32;
export const wordsMetaLength = (w: Uint32Array, word: number): number => w[word + 4]!;
export const wordsDataLength = (w: Uint32Array, word: number): number => w[word + 5]!;
export const wordsTimestamp = (w: Uint32Array, word: number): number => w[word + 6]! + w[word + 7]! * TWO_32;
export const wordsMetaCrc = (w: Uint32Array, word: number): number => w[word + 8]!;
export const wordsDataCrc = (w: Uint32Array, word: number): number => w[word + 9]!;
/** End offsets of an entry's metadata and data from its words (little-endian hosts), as entryMetaEnd/entryDataEnd. */
export const wordsMetaEnd = (w: Uint32Array, word: number): number => wordsMetaOffset(w, word) + w[word + 4]!;
export const wordsDataEnd = (w: Uint32Array, word: number): number => wordsDataOffset(w, word) + w[word + 5]!;
/** End offsets (offset + length) of an entry's metadata and data: where the next event's bytes start. */
export const entryMetaEnd = (buf: Buffer, at: number): number => readU64(buf, at) + buf.readUInt32LE(at + 16);
export const entryDataEnd = (buf: Buffer, at: number): number => readU64(buf, at + 8) + buf.readUInt32LE(at + 20);

// Checking many entries with one native CRC call. An entry is its 44 bytes followed by their CRC-32 (little-endian),
// and the CRC-32 of any such message is the same constant (the CRC residue). So the CRC of valid entries back to back
// depends only on their count: it is that of as many copies of any one valid entry, found by combining the CRC of one
// entry with itself (crc32Combine, doubling: a few dozen table lookups, where a buffer of copies cost 400 KB and a
// native pass over it at every process start). Damage to one entry changes it (to several, with the odds of a 32-bit
// checksum), and the caller then checks entry by entry to find which.
/** Entries per native call: bounds the bytes a failed check re-reads entry by entry. */
const RUN_ENTRIES = 8192;
/** CRC-32 of 2^k valid entries back to back, for k = 0.. (filled on first use). */
const POWER_RUN_CRCS: number[] = [];

/** CRC-32 of `n` valid entries back to back (1 <= n <= RUN_ENTRIES). */
function validRunCrc(n: number): number {
  if (POWER_RUN_CRCS.length === 0) {
    const one = Buffer.alloc(ENTRY_SIZE);
    one.writeUInt32LE(crc32Range(one, 0, CRC_SPAN), CRC_SPAN);
    POWER_RUN_CRCS.push(crc32Range(one, 0, ENTRY_SIZE));
    for (let k = 1; 1 << k <= RUN_ENTRIES; k++) {
      const half = POWER_RUN_CRCS[k - 1]!;
      POWER_RUN_CRCS.push(crc32Combine(half, half, (1 << (k - 1)) * ENTRY_SIZE));
    }
  }
  // n as a sum of powers of two: the runs of 2^k entries back to back.
  let crc = 0;
  let have = false;
  for (let k = 0; n !== 0; k++, n >>>= 1) {
    if ((n & 1) === 0) continue;
    const part = POWER_RUN_CRCS[k]!;
    crc = have ? crc32Combine(crc, part, (1 << k) * ENTRY_SIZE) : part;
    have = true;
  }
  return crc;
}

/** The flags words of `n` entries from word `first` on are all 0 (a small function: it is compiled early). */
function flagsAllZero(words: Uint32Array, first: number, n: number): boolean {
  let any = 0;
  for (let w = first, end = first + n * ENTRY_WORDS; w < end; w += ENTRY_WORDS) any |= words[w]!;
  return any === 0;
}

/**
 * True when all `count` entries from byte `at` of `buf` are valid (checked as entryIsValid: CRC and zero flags), with
 * one native CRC call per RUN_ENTRIES entries. False means some entry of a run failed: check them one by one.
 */
export function entriesAllValid(buf: Buffer, words: Uint32Array, at: number, count: number): boolean {
  const aligned = HOST_IS_LE && (at & 3) === 0;
  for (let done = 0; done < count; done += RUN_ENTRIES) {
    const n = Math.min(RUN_ENTRIES, count - done);
    const start = at + done * ENTRY_SIZE;
    const expected = validRunCrc(n);
    if (crc32Range(buf, start, start + n * ENTRY_SIZE) !== expected) return false;
    // The flags word is inside the CRC span, so a valid CRC does not make it zero.
    if (aligned) {
      if (!flagsAllZero(words, (start >>> 2) + 10, n)) return false;
    } else {
      for (let e = start + 40, end = start + n * ENTRY_SIZE; e < end; e += ENTRY_SIZE) if (buf.readUInt32LE(e) !== 0) return false;
    }
  }
  return true;
}
