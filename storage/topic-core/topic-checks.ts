// Argument checks, and the creation and removal of a topic folder, shared by the topic stores of every format.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { FolderIdentity, noteFolderRemoved } from '../folder-identity.js';
import { fsyncDir, readDirEntries } from '../fs-helpers.js';
import { StorageError } from '../types.js';

/** Most partitions a topic may have (either format). */
export const MAX_PARTITIONS = 65536;

export function checkRoot(root: unknown): asserts root is string {
  if (typeof root !== 'string') throw new TypeError(`root must be a string, got ${typeof root}`);
  if (root.length === 0) throw new TypeError('root must be a non-empty string');
}

/** A number of partitions: TypeError when not a number, BAD_CONFIG outside [1, MAX_PARTITIONS]. */
export function checkNumPartitions(n: unknown): number {
  if (typeof n !== 'number') throw new TypeError(`numPartitions must be a number, got ${typeof n}`);
  if (!Number.isInteger(n) || n < 1 || n > MAX_PARTITIONS) {
    throw new StorageError('BAD_CONFIG', `numPartitions must be an integer in [1, ${MAX_PARTITIONS}], got ${n}`);
  }
  return n;
}

/** The config object of a create() and its `components` (an object: a wrong type is a TypeError). */
export function checkCreateConfig(config: unknown): { numPartitions: number; components: Record<string, unknown> } {
  if (config === null || typeof config !== 'object') throw new TypeError('topic config must be an object');
  const numPartitions = checkNumPartitions((config as { numPartitions?: unknown }).numPartitions);
  const components = (config as { components?: unknown }).components ?? {};
  if (components === null || typeof components !== 'object' || Array.isArray(components)) {
    throw new TypeError('components must be an object');
  }
  return { numPartitions, components: components as Record<string, unknown> };
}

/**
 * Deletes a topic folder crash-safely: renamed away first (the topic vanishes at once, in one step), then removed.
 * A crash in between leaves a hidden folder, never a half-deleted topic that still opens.
 */
export function removeTopicDir(dir: string): void {
  // Names starting with '.' are not valid topic names, so this cannot collide with a topic.
  const doomed = path.join(path.dirname(dir), `.${path.basename(dir)}.deleted-${process.pid}-${crypto.randomBytes(4).toString('hex')}`);
  try {
    fs.renameSync(dir, doomed);
  } catch (err) {
    // Another process removed it first.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new StorageError('TOPIC_NOT_FOUND', `topic folder ${dir} does not exist`, { file: dir, cause: err });
    throw err;
  }
  noteFolderRemoved();
  fs.rmSync(doomed, { recursive: true, force: true });
}

/**
 * Creates topic folder `<root>/<name>` all at once: `fill` builds it under a hidden temporary name, renamed into place
 * when complete, so that a crash leaves a hidden folder and never a half-made topic at the name. TOPIC_EXISTS if
 * the name was taken meanwhile (rename replaces nothing but an empty folder). Returns the created folder's identity.
 */
export function publishTopicDir(root: string, name: string, fill: (tmp: string) => void): FolderIdentity {
  const dir = path.join(root, name);
  let folder: FolderIdentity;
  const tmp = path.join(root, `.${name}.creating-${process.pid}-${crypto.randomBytes(4).toString('hex')}`);
  fs.mkdirSync(root, { recursive: true });
  try {
    fs.mkdirSync(tmp);
    fill(tmp);
    folder = new FolderIdentity(dir, tmp); // a rename keeps a folder's identity
    try {
      fs.renameSync(tmp, dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOTDIR') {
        throw new StorageError('TOPIC_EXISTS', `topic "${name}" already exists in ${root}`, { file: dir, name, cause: err });
      }
      throw err;
    }
    fsyncDir(root);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    if (err instanceof StorageError) throw err;
    throw new StorageError('IO', `cannot create topic "${name}" in ${root}: ${(err as Error).message}`, { file: dir, cause: err });
  }
  return folder;
}

/** Largest folder tree looked through for data before a folder at a topic's name is taken as a leftover. */
const LEFTOVER_MAX_ENTRIES = 200_000;

/**
 * Removes `dir` if it is a leftover: a folder that is not a topic (the caller checked) and holds no byte of data,
 * only folders and empty files, as a createTopic interrupted by an earlier version (which built the folder in
 * place) or a writer racing a deleteTopic (which re-created its partition folder) could leave. Such a folder
 * blocked the name for good: TOPIC_EXISTS to create, TOPIC_NOT_FOUND to open or delete. Anything else is kept.
 * Returns whether it was removed.
 */
export function removeLeftoverTopicDir(dir: string): boolean {
  let entries = 0;
  const holdsNoData = (d: string): boolean => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (++entries > LEFTOVER_MAX_ENTRIES) return false;
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        if (!holdsNoData(p)) return false;
      } else if (!e.isFile() || fs.statSync(p).size > 0) return false;
    }
    return true;
  };
  try {
    if (!fs.statSync(dir).isDirectory() || !holdsNoData(dir)) return false;
    removeTopicDir(dir);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** Hidden folders of a topic being created (publishTopicDir) or deleted (removeTopicDir): `.<name>.<what>-<pid>-<hex>`. */
const WORK_DIR_RE = /^\..+\.(?:creating|deleted)-(\d+)-[0-9a-f]+$/;
/** How long such a folder must have been left untouched before it counts as abandoned (whatever its pid says). */
export const ABANDONED_AFTER_MS = 10 * 60_000;

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the hidden folders that creations and deletions of topics under `root` left when their process died (a
 * deleteTopic killed while removing a large topic left all of its data, for good): those of a process that no
 * longer exists and untouched for ABANDONED_AFTER_MS. Best effort: a folder that cannot be removed now is left.
 */
export function removeAbandonedTopicDirs(root: string): void {
  const now = Date.now();
  for (const e of readDirEntries(root)) {
    const m = WORK_DIR_RE.exec(e.name);
    if (m === null || !e.isDirectory()) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || processExists(pid)) continue;
    const dir = path.join(root, e.name);
    try {
      if (now - fs.statSync(dir).mtimeMs < ABANDONED_AFTER_MS) continue;
      fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // left for a later look
    }
  }
}
