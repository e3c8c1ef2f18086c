// Small file-system helpers shared by the engine's modules.
import fs from 'node:fs';

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
