// Rewriting topic.json when its retention policy changes: a complete new file renamed over the old one (readers
// see the old or the new manifest, never a mix), made durable before the call returns.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { fsyncDir } from '../fs-helpers.js';
import { StorageError } from '../types.js';

/** Writes `text` into a new hidden temporary file beside `file`, fsynced; returns its path (to link or rename). */
export function writeSyncedTemp(file: string, text: string): string {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.tmp`);
  const fd = fs.openSync(tmp, 'wx');
  try {
    fs.writeFileSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return tmp;
}

export function writeFileAtomically(file: string, text: string): void {
  const dir = path.dirname(file);
  let tmp: string | null = null;
  try {
    tmp = writeSyncedTemp(file, text);
    fs.renameSync(tmp, file);
    fsyncDir(dir);
  } catch (cause) {
    if (tmp !== null) fs.rmSync(tmp, { force: true });
    throw new StorageError('IO', `cannot write ${file}: ${(cause as Error).message}`, { file, cause });
  }
}
