// Rewriting topic.json when its retention policy changes: a complete new file renamed over the old one (readers
// see the old or the new manifest, never a mix), made durable before the call returns.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { fsyncDir } from '../fs-helpers.js';
import { StorageError } from '../types.js';

export function writeFileAtomically(file: string, text: string): void {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.tmp`);
  try {
    const fd = fs.openSync(tmp, 'wx');
    try {
      fs.writeFileSync(fd, text);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
    fsyncDir(dir);
  } catch (cause) {
    fs.rmSync(tmp, { force: true });
    throw new StorageError('IO', `cannot write ${file}: ${(cause as Error).message}`, { file, cause });
  }
}
