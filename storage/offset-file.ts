// The offset file of one named consumer and partition: its bytes, how they are read, and where it lives.
//
// File `<topic>/consumers/<encoded name>/<NNNNNNNN>.offset`, 64 bytes = two 32-byte slots, little-endian:
//   0  u32 magic 'DSOF'   4  u32 format version (1)   8  u64 sequence   16  u64 value (last acked id + 1; 0 = none)
//   24 u32 reserved (0)   28 u32 CRC-32 of bytes 0..27
// A store rewrites only the slot holding the older sequence (consumer-offsets.ts), so a write torn by a crash damages
// only that slot and the other one still holds the previous value. Loading takes the valid slot with the highest
// sequence. A file is created whole (its first value in slot 0, written and fsynced under a temporary name, then
// renamed into place), so every offset file has a valid slot: one without (empty, garbage, zeros) is damage, reported
// as CORRUPTION, never read as "nothing acknowledged".
import fs from 'node:fs';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { consumerDir, partitionStem } from './consumer-name.js';
import { StorageError } from './types.js';

export const OFFSET_SLOT_BYTES = 32;
export const OFFSET_FILE_BYTES = 2 * OFFSET_SLOT_BYTES;
export const OFFSET_MAGIC = 0x464f5344; // bytes 'D' 'S' 'O' 'F'
export const OFFSET_FORMAT_VERSION = 1;
const CRC_OFFSET = 28;
const TWO_32 = 4294967296;

/** One decoded slot: empty (never written: all zero or past the end of the file), damaged, or valid. */
export type OffsetSlot =
  | { state: 'empty' }
  | { state: 'damaged' }
  | { state: 'valid'; sequence: number; lastAckedId: number | null };

/** Encodes a slot into `out` (32 bytes at `at`). `value` is lastAckedId + 1, 0 for none. */
export function encodeOffsetSlot(sequence: number, value: number, out: Buffer = Buffer.alloc(OFFSET_SLOT_BYTES), at = 0): Buffer {
  out.writeUInt32LE(OFFSET_MAGIC, at);
  out.writeUInt32LE(OFFSET_FORMAT_VERSION, at + 4);
  out.writeUInt32LE(sequence % TWO_32, at + 8);
  out.writeUInt32LE(Math.floor(sequence / TWO_32), at + 12);
  out.writeUInt32LE(value % TWO_32, at + 16);
  out.writeUInt32LE(Math.floor(value / TWO_32), at + 20);
  out.writeUInt32LE(0, at + 24);
  out.writeUInt32LE(zlib.crc32(out.subarray(at, at + CRC_OFFSET)), at + CRC_OFFSET);
  return out;
}

/** Decodes the 32 bytes at `at` (bytes missing past the end of `buf` count as zero). */
export function decodeOffsetSlot(buf: Uint8Array, at = 0): OffsetSlot {
  const slot = Buffer.alloc(OFFSET_SLOT_BYTES);
  if (at < buf.length) slot.set(buf.subarray(at, Math.min(buf.length, at + OFFSET_SLOT_BYTES)));
  if (slot.every((b) => b === 0)) return { state: 'empty' };
  if (
    slot.readUInt32LE(0) !== OFFSET_MAGIC ||
    slot.readUInt32LE(4) !== OFFSET_FORMAT_VERSION ||
    slot.readUInt32LE(24) !== 0 ||
    slot.readUInt32LE(CRC_OFFSET) !== zlib.crc32(slot.subarray(0, CRC_OFFSET))
  ) {
    return { state: 'damaged' };
  }
  const sequence = slot.readUInt32LE(8) + slot.readUInt32LE(12) * TWO_32;
  const value = slot.readUInt32LE(16) + slot.readUInt32LE(20) * TWO_32;
  if (sequence === 0 || !Number.isSafeInteger(sequence) || !Number.isSafeInteger(value)) return { state: 'damaged' };
  return { state: 'valid', sequence, lastAckedId: value === 0 ? null : value - 1 };
}

/** What an offset file's bytes say: the current value, and where the next store goes. */
export interface OffsetFileState {
  lastAckedId: number | null;
  /** Highest valid sequence (0 if none). */
  sequence: number;
  /** Slot holding the current value; the next store writes the other one. -1 if none is valid. */
  newestSlot: 0 | 1 | -1;
}

/** The fix named by every CORRUPTION of an offset file. */
const RESET_HINT = "move the consumer with topic.resetConsumer or 'diaspora-ctl consumers reset', which rewrites it";

/**
 * Interprets the bytes of an offset file. Rules (docs/on-disk-format.md):
 * - the valid slot with the highest sequence wins (equal sequences: the smaller value, never jump ahead);
 * - no valid slot (an empty file, a file of 1..63 bytes, both slots damaged, a damaged slot beside a never-written
 *   one, 64 bytes of zeros) is CORRUPTION: files are created whole, so no crash of ours leaves one, and reading it
 *   as "nothing acknowledged" would silently deliver every event again.
 */
export function interpretOffsetFile(bytes: Uint8Array, file: string): OffsetFileState {
  if (bytes.length === 0) {
    throw new StorageError('CORRUPTION', `offset file ${file} is empty (damaged: it is created with its position in it); ${RESET_HINT}`, { file, offset: 0 });
  }
  if (bytes.length < OFFSET_FILE_BYTES) {
    throw new StorageError('CORRUPTION', `offset file ${file} is truncated (${bytes.length} of ${OFFSET_FILE_BYTES} bytes); ${RESET_HINT}`, {
      file,
      offset: bytes.length,
    });
  }
  const a = decodeOffsetSlot(bytes, 0);
  const b = decodeOffsetSlot(bytes, OFFSET_SLOT_BYTES);
  if (a.state === 'valid' && b.state === 'valid') {
    const pickA = a.sequence > b.sequence || (a.sequence === b.sequence && (a.lastAckedId ?? -1) <= (b.lastAckedId ?? -1));
    const w = pickA ? a : b;
    return { lastAckedId: w.lastAckedId, sequence: Math.max(a.sequence, b.sequence), newestSlot: pickA ? 0 : 1 };
  }
  if (a.state === 'valid') return { lastAckedId: a.lastAckedId, sequence: a.sequence, newestSlot: 0 };
  if (b.state === 'valid') return { lastAckedId: b.lastAckedId, sequence: b.sequence, newestSlot: 1 };
  // Both slots zeros too: a file of the right size whose bytes were lost (some file systems leave zeros after a
  // crash), not "position 0".
  const what = a.state === 'empty' && b.state === 'empty' ? 'is all zeros (no valid slot)' : 'has no valid slot';
  throw new StorageError('CORRUPTION', `offset file ${file} ${what}; ${RESET_HINT}`, { file, offset: a.state === 'damaged' ? 0 : OFFSET_SLOT_BYTES });
}

/** Path of the offset file of one consumer name and partition. */
export function offsetFilePath(topicDir: string, consumerName: string, partition: number): string {
  return join(consumerDir(topicDir, consumerName), `${partitionStem(partition)}.offset`);
}

/** Reads an offset file without keeping it open; null if it does not exist. */
export function readOffsetFile(file: string): OffsetFileState | null {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw ioError(`cannot read offset file ${file}`, file, cause);
  }
  return interpretOffsetFile(bytes, file);
}

export function ioError(what: string, file: string, cause: unknown): StorageError {
  return new StorageError('IO', `${what}: ${(cause as Error).message}`, { file, cause });
}

export function checkAckedId(lastAckedId: number): void {
  if (typeof lastAckedId !== 'number') throw new TypeError(`event id must be a number, got ${typeof lastAckedId}`);
  if (!Number.isSafeInteger(lastAckedId) || lastAckedId < 0) {
    throw new StorageError('OUT_OF_RANGE', `bad event id ${lastAckedId}: expected a non-negative safe integer`);
  }
}

/** The bytes of a whole offset file holding `value` with `sequence` (slot 0; slot 1 zeros). */
export function wholeOffsetFile(sequence: number, value: number): Buffer {
  const bytes = Buffer.alloc(OFFSET_FILE_BYTES);
  encodeOffsetSlot(sequence, value, bytes, 0);
  return bytes;
}
