// Argument checks and the removal of a topic folder, shared by the topic stores of every format.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
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
  fs.renameSync(dir, doomed);
  fs.rmSync(doomed, { recursive: true, force: true });
}
