// The acknowledged floor a trim of one partition may rely on, read under that partition's writer lock (so that it
// is the floor at the moment the first id moves, not one read before another trimmer ran) and made durable first:
// consumers storing offsets in 'buffered' or 'on_flush' mode may not have fsynced them, and a power loss must not
// roll an acknowledgement back below a first id that is already on disk (the consumer would then ask for trimmed
// ids). Offsets only move forward (a `reset` is an operator's deliberate move), so fsyncing a file after reading it
// makes the value read, or a later one, durable.
import fs from 'node:fs';
import path from 'node:path';
import { offsetFilePath } from '../offset-file.js';
import { readConsumerPosition } from '../consumer-reset.js';
import { consumersRoot, consumersRootEntries, decodeConsumerName } from '../consumer-name.js';
import { fsyncDir } from '../fs-helpers.js';
import { StorageError } from '../types.js';
import { ackedFloorOf } from './trim-plan.js';
import type { RetentionPolicy } from './retention-policy.js';

/**
 * The lowest id the consumers `policy` waits for have not durably acknowledged on `partition` (null: none waited for).
 * Only their offset files of this partition are read: a damaged offset file of a consumer the list does not name, or
 * of another partition, is none of this trim's business (either used to fail it with CORRUPTION). A damaged file of a
 * consumer waited for is CORRUPTION: it never counts as acknowledged.
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
  // Only this partition's offset files: a damaged one of another partition is that partition's trim's business. A
  // reset a crash interrupted counts as finished (its consumer finds it so when it claims the partition).
  for (const name of wanted === '*' ? knownConsumers(topicDir) : wanted) {
    lastAcked(name, readConsumerPosition(topicDir, name, partition)?.lastAckedId ?? null);
  }
  if (synced) fsyncDir(consumersRoot(topicDir));
  return ackedFloorOf(policy, acked);
}

/** Names of the consumers a topic knows (its consumer folders; temporary and tombstone entries are none). */
function knownConsumers(topicDir: string): string[] {
  const names: string[] = [];
  for (const e of consumersRootEntries(topicDir)) {
    const name = e.isDirectory() ? decodeConsumerName(e.name) : null;
    if (name !== null) names.push(name);
  }
  return names;
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
