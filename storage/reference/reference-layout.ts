// The on-disk layout of topics written by the C++/Python reference "files" driver (API.md 3.2, 3.3):
//   <root>/<topic>/{validator,serializer,partition-selector}.json
//   <root>/<topic>/partitions/<NNNNNNNN>/{index,metadata,data}
// index: 32-byte entries of four little-endian u64 (metadata offset, metadata size, data offset, data size);
// metadata: records of a u64 LE length followed by the JSON text (metadata size counts the 8-byte prefix).
import fs from 'node:fs';
import path from 'node:path';
import { StorageError } from '../types.js';

export const REFERENCE_ENTRY_BYTES = 32;
/** Size of the u64 length prefix in front of each metadata record. */
export const METADATA_PREFIX_BYTES = 8;
export const PARTITIONS_DIR = 'partitions';
export const INDEX_FILE = 'index';
export const METADATA_FILE = 'metadata';
export const DATA_FILE = 'data';
/** The native format's manifest; its presence means "not a reference topic". */
export const NATIVE_MANIFEST_FILE = 'topic.json';

/** Component config files, in the order the reference loads them, with the manifest key each one fills. */
export const COMPONENT_FILES = [
  { key: 'validator', file: 'validator.json' },
  { key: 'serializer', file: 'serializer.json' },
  { key: 'partitionSelector', file: 'partition-selector.json' },
] as const;

export type ComponentKey = (typeof COMPONENT_FILES)[number]['key'];

/** One decoded index entry. */
export interface ReferenceIndexEntry {
  metadataOffset: number;
  metadataSize: number;
  dataOffset: number;
  dataSize: number;
}

/** Partition folders are named as in the native layout: the index in decimal, zero-padded to 8 digits. */
export { partitionDirName } from '../segment-files.js';

/**
 * The partition number the reference derives from a directory name: it uses `stoull`, so leading decimal
 * digits count ("1abc" is 1) and names that do not start with a digit are skipped (null).
 */
export function parsePartitionDirName(name: string): number | null {
  const m = /^\s*\+?(\d+)/.exec(name);
  if (m === null) return null;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) ? n : null;
}

/** Number of partitions as the reference's openTopic computes it: max(numeric dir name) + 1, or 0 if none. */
export function countReferencePartitions(partitionsDir: string): number {
  let max = -1;
  for (const entry of fs.readdirSync(partitionsDir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const n = parsePartitionDirName(entry.name);
    if (n !== null && n > max) max = n;
  }
  return max + 1;
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** True when `topicDir` has the reference layout: `partitions/` and the three JSON files, and no `topic.json`. */
export function isReferenceTopic(topicDir: string): boolean {
  if (!isDirectory(topicDir)) return false;
  if (fs.existsSync(path.join(topicDir, NATIVE_MANIFEST_FILE))) return false;
  if (!isDirectory(path.join(topicDir, PARTITIONS_DIR))) return false;
  return COMPONENT_FILES.every((c) => isFile(path.join(topicDir, c.file)));
}

/** Reads a u64 LE as a Number; values beyond 2^53 cannot be real offsets in this format, so they are corruption. */
export function readU64(buf: Uint8Array, at: number, file: string, fileOffset: number): number {
  const lo = (buf[at]! | (buf[at + 1]! << 8) | (buf[at + 2]! << 16)) + buf[at + 3]! * 0x1000000;
  const hi = (buf[at + 4]! | (buf[at + 5]! << 8) | (buf[at + 6]! << 16)) + buf[at + 7]! * 0x1000000;
  if (hi >= 0x200000) {
    throw new StorageError('CORRUPTION', `${file}: u64 at offset ${fileOffset} exceeds 2^53`, { file, offset: fileOffset });
  }
  return hi * 0x100000000 + lo;
}

export function writeU64(buf: Uint8Array, at: number, value: number): void {
  const lo = value % 0x100000000;
  const hi = Math.floor(value / 0x100000000);
  buf[at] = lo & 0xff;
  buf[at + 1] = (lo >>> 8) & 0xff;
  buf[at + 2] = (lo >>> 16) & 0xff;
  buf[at + 3] = (lo >>> 24) & 0xff;
  buf[at + 4] = hi & 0xff;
  buf[at + 5] = (hi >>> 8) & 0xff;
  buf[at + 6] = (hi >>> 16) & 0xff;
  buf[at + 7] = (hi >>> 24) & 0xff;
}

/** Decodes entry bytes at `at` of `buf`; `indexFile`/`fileOffset` name the entry in errors. */
export function decodeIndexEntry(buf: Uint8Array, at: number, indexFile: string, fileOffset: number): ReferenceIndexEntry {
  return {
    metadataOffset: readU64(buf, at, indexFile, fileOffset),
    metadataSize: readU64(buf, at + 8, indexFile, fileOffset + 8),
    dataOffset: readU64(buf, at + 16, indexFile, fileOffset + 16),
    dataSize: readU64(buf, at + 24, indexFile, fileOffset + 24),
  };
}

export function encodeIndexEntry(buf: Uint8Array, at: number, e: ReferenceIndexEntry): void {
  writeU64(buf, at, e.metadataOffset);
  writeU64(buf, at + 8, e.metadataSize);
  writeU64(buf, at + 16, e.dataOffset);
  writeU64(buf, at + 24, e.dataSize);
}

/** Recursively sorts object keys, as nlohmann::json (a std::map) emits them. */
export function sortJsonKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortJsonKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) out[k] = sortJsonKeys((value as Record<string, unknown>)[k]);
    return out;
  }
  return value;
}

/** A component file's text as the reference writes it: sorted keys, 2-space indent, no trailing newline. */
export function componentFileText(config: unknown): string {
  return JSON.stringify(sortJsonKeys(config ?? {}), null, 2);
}
