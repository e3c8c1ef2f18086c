// The acknowledged floor a trim of one partition may rely on, read under that partition's writer lock (so that it
// is the floor at the moment the first id moves, not one read before another trimmer ran) and made durable first:
// consumers storing offsets in 'buffered' or 'on_flush' mode may not have fsynced them, and a power loss must not
// roll an acknowledgement back below a first id that is already on disk (the consumer would then ask for trimmed
// ids). Offsets only move forward (a `reset` is an operator's deliberate move), so fsyncing a file after reading it
// makes the value read, or a later one, durable.
import fs from 'node:fs';
import path from 'node:path';
import { ConsumerOffsets, offsetFilePath, readOffsetFile } from '../consumer-offsets.js';
import { consumersRoot } from '../consumer-name.js';
import { fsyncDir } from '../fs-helpers.js';
import { StorageError } from '../types.js';
import { ackedFloorOf } from './trim-plan.js';
import type { RetentionPolicy } from './retention-policy.js';

/**
 * The lowest id the consumers `policy` waits for have not durably acknowledged on `partition` (null: none waited for).
 * Only their offset files are read: with a list of names, a damaged offset file of another consumer is none of the
 * trim's business (it used to fail every trim of the partition with CORRUPTION). A damaged file of a consumer waited
 * for is CORRUPTION: it never counts as acknowledged.
 */
export function durableAckedFloor(topicDir: string, policy: RetentionPolicy | null, partition: number): number | null {
  const wanted = policy?.keepUntilAckedBy;
  if (wanted === undefined) return null;
  const acked = new Map<string, number | null>();
  let synced = false;
  const lastAcked = (name: string, last: number | null): void => {
    // Only an acknowledgement the floor counts needs to be durable (null keeps everything anyway).
    if (last !== null && !syncOffsetFile(offsetFilePath(topicDir, name, partition))) {
      // Removed meanwhile (the consumer was deleted): '*' no longer waits for it; a listed name keeps everything.
      if (wanted !== '*') acked.set(name, null);
      return;
    }
    synced ||= last !== null;
    acked.set(name, last);
  };
  if (wanted === '*') {
    for (const c of ConsumerOffsets.list(topicDir)) lastAcked(c.name, c.partitions.get(partition) ?? null);
  } else {
    for (const name of wanted) lastAcked(name, readOffsetFile(offsetFilePath(topicDir, name, partition))?.lastAckedId ?? null);
  }
  if (synced) fsyncDir(consumersRoot(topicDir));
  return ackedFloorOf(policy, acked);
}

/** fsyncs an offset file and its folder (its directory entry may be as new as its content); false if it is gone. */
function syncOffsetFile(file: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new StorageError('IO', `cannot open offset file ${file}`, { file, cause });
  }
  try {
    fs.fsyncSync(fd);
  } catch (cause) {
    throw new StorageError('IO', `cannot fsync offset file ${file}`, { file, cause });
  } finally {
    fs.closeSync(fd);
  }
  fsyncDir(path.dirname(file));
  return true;
}
