// The acknowledged floor a trim of one partition may rely on, read under that partition's writer lock (so that it
// is the floor at the moment the first id moves, not one read before another trimmer ran) and made durable first:
// consumers storing offsets in 'buffered' or 'on_flush' mode may not have fsynced them, and a power loss must not
// roll an acknowledgement back below a first id that is already on disk (the consumer would then ask for trimmed
// ids). Offsets only move forward (a `reset` is an operator's deliberate move), so fsyncing a file after reading it
// makes the value read, or a later one, durable.
import fs from 'node:fs';
import path from 'node:path';
import { ConsumerOffsets, offsetFilePath } from '../consumer-offsets.js';
import { consumersRoot } from '../consumer-name.js';
import { fsyncDir } from '../fs-helpers.js';
import { StorageError } from '../types.js';
import { ackedFloorOf } from './trim-plan.js';
import type { RetentionPolicy } from './retention-policy.js';

/** The lowest id the consumers `policy` waits for have not durably acknowledged on `partition` (null: none waited for). */
export function durableAckedFloor(topicDir: string, policy: RetentionPolicy | null, partition: number): number | null {
  const wanted = policy?.keepUntilAckedBy;
  if (wanted === undefined) return null;
  const acked = new Map<string, number | null>();
  for (const c of ConsumerOffsets.list(topicDir)) {
    const last = c.partitions.get(partition) ?? null;
    if (last !== null && (wanted === '*' || wanted.includes(c.name))) {
      // Only an acknowledgement the floor counts needs to be durable (null keeps everything anyway).
      if (!syncOffsetFile(offsetFilePath(topicDir, c.name, partition))) continue; // removed meanwhile: as if absent
    }
    acked.set(c.name, last);
  }
  if (acked.size > 0) fsyncDir(consumersRoot(topicDir));
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
