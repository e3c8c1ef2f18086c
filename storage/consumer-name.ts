// Consumer names are arbitrary strings chosen by applications ("app2", "/tmp/x/fifo", "Ünïcode workers"), but each
// one names a directory under `<topic>/consumers/`. This maps a name to one safe path component and back.
import fs from 'node:fs';
import { join } from 'node:path';
import { StorageError } from './types.js';
import { fsyncDir, mkdirIfMissing, readDirEntries } from './fs-helpers.js';

/** Longest encoded name accepted: stays under the usual 255-byte limit for one path component. */
export const MAX_ENCODED_CONSUMER_NAME = 240;

// Bytes kept as they are; everything else (including '/', '%', spaces, non-ASCII) is percent-encoded.
const SAFE_BYTE = /^[A-Za-z0-9._-]$/;

/**
 * Encodes a consumer name into a single path component: UTF-8 bytes outside [A-Za-z0-9._-] become `%XX`
 * (upper-case hex), and a leading '.' becomes `%2E` so no encoded name is hidden, '.' or '..'.
 * Throws TypeError for a non-string, StorageError BAD_NAME for an empty name, a NUL, a lone surrogate
 * (not representable in UTF-8, so not reversible) or an encoding longer than MAX_ENCODED_CONSUMER_NAME.
 */
export function encodeConsumerName(name: string): string {
  if (typeof name !== 'string') throw new TypeError(`consumer name must be a string, got ${typeof name}`);
  if (name.length === 0) throw new StorageError('BAD_NAME', 'consumer name must not be empty');
  if (name.includes('\0')) throw new StorageError('BAD_NAME', 'consumer name must not contain NUL');
  const bytes = Buffer.from(name, 'utf8');
  if (bytes.toString('utf8') !== name) {
    throw new StorageError('BAD_NAME', 'consumer name is not well-formed Unicode (lone surrogate)', { name });
  }
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const ch = String.fromCharCode(bytes[i]!);
    if (SAFE_BYTE.test(ch) && !(i === 0 && ch === '.')) out += ch;
    else out += '%' + bytes[i]!.toString(16).toUpperCase().padStart(2, '0');
  }
  if (out.length > MAX_ENCODED_CONSUMER_NAME) {
    throw new StorageError(
      'BAD_NAME',
      `consumer name too long: encodes to ${out.length} characters (max ${MAX_ENCODED_CONSUMER_NAME})`,
      { name },
    );
  }
  return out;
}

/**
 * Inverse of encodeConsumerName. Returns null when `encoded` is not the canonical encoding of any valid name
 * (so stray files such as temp or tombstone entries are never mistaken for consumers).
 */
export function decodeConsumerName(encoded: string): string | null {
  if (typeof encoded !== 'string' || encoded.length === 0 || encoded.length > MAX_ENCODED_CONSUMER_NAME) return null;
  const bytes: number[] = [];
  for (let i = 0; i < encoded.length; i++) {
    const ch = encoded[i]!;
    if (ch === '%') {
      const hex = encoded.slice(i + 1, i + 3);
      if (!/^[0-9A-F]{2}$/.test(hex)) return null;
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (SAFE_BYTE.test(ch)) {
      bytes.push(ch.charCodeAt(0));
    } else {
      return null;
    }
  }
  const name = Buffer.from(bytes).toString('utf8');
  try {
    return encodeConsumerName(name) === encoded ? name : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Layout: <topicDir>/consumers/<encoded name>/{name, NNNNNNNN.offset, NNNNNNNN.claim}

/** Largest partition index that fits the 8-digit file names. */
export const MAX_CONSUMER_PARTITION = 99_999_999;

/** Directory holding every named consumer of a topic. */
export function consumersRoot(topicDir: string): string {
  return join(topicDir, 'consumers');
}

/** The entries of `<topic>/consumers/` (none when the folder does not exist yet); IO when it cannot be read. */
export function consumersRootEntries(topicDir: string): fs.Dirent[] {
  const root = consumersRoot(topicDir);
  try {
    return readDirEntries(root);
  } catch (cause) {
    throw new StorageError('IO', `cannot list ${root}`, { file: root, cause });
  }
}

/** Directory of one consumer name (validates the name). */
export function consumerDir(topicDir: string, consumerName: string): string {
  return join(consumersRoot(topicDir), encodeConsumerName(consumerName));
}

/** Checks a partition index: TypeError for a non-number, OUT_OF_RANGE for a negative/fractional/too large one. */
export function checkPartition(partition: number): void {
  if (typeof partition !== 'number') throw new TypeError(`partition must be a number, got ${typeof partition}`);
  if (!Number.isInteger(partition) || partition < 0 || partition > MAX_CONSUMER_PARTITION) {
    throw new StorageError('OUT_OF_RANGE', `bad partition index ${partition}`, { partition });
  }
}

/** `00000003` for partition 3. */
export function partitionStem(partition: number): string {
  checkPartition(partition);
  return String(partition).padStart(8, '0');
}

/** Partition index of a `NNNNNNNN<suffix>` file name, or null if the name is not one. */
export function parsePartitionFile(fileName: string, suffix: string): number | null {
  if (!fileName.endsWith(suffix)) return null;
  const stem = fileName.slice(0, -suffix.length);
  return /^[0-9]{8}$/.test(stem) ? Number(stem) : null;
}

/** Throws TOPIC_NOT_FOUND unless `topicDir` is an existing directory. */
export function checkTopicDir(topicDir: string): void {
  if (typeof topicDir !== 'string') throw new TypeError(`topicDir must be a string, got ${typeof topicDir}`);
  let st: fs.Stats;
  try {
    st = fs.statSync(topicDir);
  } catch (cause) {
    throw new StorageError('TOPIC_NOT_FOUND', `topic directory ${topicDir} does not exist`, { file: topicDir, cause });
  }
  if (!st.isDirectory()) throw new StorageError('TOPIC_NOT_FOUND', `${topicDir} is not a directory`, { file: topicDir });
}

export { fsyncDir };

/**
 * Creates `<topicDir>/consumers/<encoded name>/` and its `name` file (the original name in UTF-8, for people and
 * tools; the directory name alone decodes to it too). Idempotent and safe against concurrent creators: the name
 * file is written to a temporary file and renamed into place. With `durable`, new entries are fsynced.
 */
export function ensureConsumerDir(topicDir: string, consumerName: string, durable: boolean): string {
  const dir = consumerDir(topicDir, consumerName);
  checkTopicDir(topicDir);
  try {
    const nameFile = join(dir, 'name');
    if (fs.existsSync(nameFile)) return dir;
    const rootExisted = fs.existsSync(consumersRoot(topicDir));
    // Never recursive: a topic folder deleted meanwhile must not come back as a folder holding only a consumer.
    mkdirIfMissing(consumersRoot(topicDir));
    mkdirIfMissing(dir);
    const tmp = join(dir, `.name.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
    fs.writeFileSync(tmp, consumerName, 'utf8');
    if (durable) {
      const fd = fs.openSync(tmp, 'r');
      try {
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    }
    fs.renameSync(tmp, nameFile);
    if (durable) {
      fsyncDir(dir);
      fsyncDir(consumersRoot(topicDir));
      if (!rootExisted) fsyncDir(topicDir);
    }
    return dir;
  } catch (cause) {
    if (cause instanceof StorageError) throw cause;
    // Something of the path vanished while we created the consumer's folder in it: the topic was deleted.
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new StorageError('TOPIC_NOT_FOUND', `topic directory ${topicDir} was deleted`, { file: topicDir, cause });
    }
    throw new StorageError('IO', `cannot create consumer directory ${dir}: ${(cause as Error).message}`, {
      file: dir,
      cause,
    });
  }
}
