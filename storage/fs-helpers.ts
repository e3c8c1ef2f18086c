// Small file-system helpers shared by the engine's modules.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { StorageError } from './types.js';

/**
 * errno codes of a disk that is full, read-only or failing, and of a process short of descriptors or memory: an
 * operation failing with one is IO (the user must hear about the disk or the limit), not a lock or data problem.
 */
const IO_ERRNOS = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EIO', 'EMFILE', 'ENFILE', 'ENOMEM']);

export function isIoErrno(err: unknown): boolean {
  return IO_ERRNOS.has((err as NodeJS.ErrnoException | null)?.code ?? '');
}

/** fsync a directory so that entries created in it (new files, renames) survive power loss. */
export function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Entries of a directory; a directory that does not exist has none. */
export function readDirEntries(dir: string): fs.Dirent[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** The file's size, or null when it cannot be stat'ed (missing, or not readable). */
export function sizeOrNull(file: string): number | null {
  try {
    return fs.statSync(file).size;
  } catch {
    return null;
  }
}

/** Reads `length` bytes at file `position` into `buf` at `bufOffset`, looping over short reads; fewer only at the end of the file. Returns how many. */
export function readAt(fd: number, buf: Uint8Array, bufOffset: number, length: number, position: number): number {
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, buf, bufOffset + done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

/** Creates folder `dir` unless it exists; never recursive: a missing parent (ENOENT) is the caller's business. */
export function mkdirIfMissing(dir: string): void {
  try {
    fs.mkdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

/**
 * Writes `content` into a new hidden temporary file beside `file` (`.<name>.<pid>.<random>.tmp`, a name no reader
 * takes for a file of its own), fsynced unless `sync` is false; returns its path, to rename or link into place. A
 * failed write removes it.
 */
export function writeTempBeside(file: string, content: string | Uint8Array, sync = true): string {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.tmp`);
  const fd = fs.openSync(tmp, 'wx');
  try {
    fs.writeFileSync(fd, content);
    if (sync) fs.fsyncSync(fd);
  } catch (err) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fs.closeSync(fd);
  return tmp;
}

/**
 * Replaces `file` with `content` whole: a temporary file renamed over it, so that readers see the old file or the new
 * one, never a mix or an empty one. `durable`: the file is fsynced before the rename and the folder after it. IO
 * (naming the file) on failure, the temporary file removed.
 */
export function writeFileAtomically(file: string, content: string | Uint8Array, durable = true): void {
  let tmp: string | null = null;
  try {
    tmp = writeTempBeside(file, content, durable);
    fs.renameSync(tmp, file);
    tmp = null;
    if (durable) fsyncDir(path.dirname(file));
  } catch (cause) {
    if (tmp !== null) fs.rmSync(tmp, { force: true });
    throw new StorageError('IO', `cannot write ${file}: ${(cause as Error).message}`, { file, cause });
  }
}
