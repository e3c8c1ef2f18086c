// Topic names become folder names: validate them before anything touches the disk.
import { StorageError } from './types.js';

export const MAX_TOPIC_NAME_BYTES = 200;

/** Throws TypeError for a non-string, StorageError BAD_NAME for a name that cannot be a safe folder name. */
export function validateTopicName(name: unknown): asserts name is string {
  if (typeof name !== 'string') throw new TypeError(`topic name must be a string, got ${typeof name}`);
  const bad = (why: string): never => {
    throw new StorageError('BAD_NAME', `invalid topic name ${JSON.stringify(name)}: ${why}`, { name });
  };
  if (name.length === 0) bad('empty');
  if (Buffer.byteLength(name, 'utf8') > MAX_TOPIC_NAME_BYTES) bad(`longer than ${MAX_TOPIC_NAME_BYTES} bytes`);
  if (name.includes('/') || name.includes('\\')) bad('contains a path separator');
  if (name.includes('\0')) bad('contains a NUL character');
  if (name === '.' || name === '..') bad('is a relative path component');
  if (name.startsWith('.')) bad('starts with "." (reserved for hidden and temporary files)');
}
