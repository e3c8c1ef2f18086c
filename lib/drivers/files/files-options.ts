// Options of the files driver, with the reference's key names. Unknown keys are an error (a typo would
// otherwise silently change durability).

import { DiasporaError, ErrorCode } from '../../errors.js';
import type { JsonObject } from '../../json.js';
import { FLUSH_BEHAVIORS as FLUSH, type FlushBehavior } from '../../../storage/types.js';
import { MAX_TIMER_MS } from '../../timer-limit.js';

export interface FilesDriverOptions {
  rootPath: string;
  flushBehavior: FlushBehavior;
  segmentBytes: number | undefined;
  verifyData: boolean;
  lockStaleMs: number | undefined;
  claimStaleMs: number | undefined;
  /** The on-disk format createTopic writes ('reference': the C++/Python driver's layout). */
  topicFormat: 'native' | 'reference';
}

export const FILES_DRIVER_KEYS = [
  'root_path',
  'flush_behavior',
  'segment_bytes',
  'verify_data',
  'lock_stale_ms',
  'claim_stale_ms',
  'use_file_locking',
  'topic_format',
] as const;


function bad(message: string): DiasporaError {
  return new DiasporaError(ErrorCode.BAD_CONFIG, message);
}

function optionalInt(o: JsonObject, key: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw bad(`Invalid ${key}: expected an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** A segment is mapped whole, and one mapping stays below 2 GiB (mmap-io's 32-bit sizes): 1 GiB at most. */
export const MAX_SEGMENT_BYTES = 2 ** 30;

export function readFilesDriverOptions(o: JsonObject): FilesDriverOptions {
  for (const k of Object.keys(o)) {
    if (!(FILES_DRIVER_KEYS as readonly string[]).includes(k)) {
      throw bad(`Unknown files driver option "${k}" (valid: ${FILES_DRIVER_KEYS.join(', ')})`);
    }
  }
  const root = o.root_path ?? './diaspora_data';
  if (typeof root !== 'string' || root.length === 0) throw bad('Invalid root_path: expected a non-empty string');
  const flush = o.flush_behavior ?? 'buffered';
  if (typeof flush !== 'string' || !(FLUSH as readonly string[]).includes(flush)) {
    throw bad(`Invalid flush_behavior: ${JSON.stringify(flush)}. Valid values are: immediate, on_flush, buffered`);
  }
  const verify = o.verify_data ?? true;
  if (typeof verify !== 'boolean') throw bad('Invalid verify_data: expected a boolean');
  // use_file_locking is accepted for compatibility: writers always take the partition's writer lock here.
  if (o.use_file_locking !== undefined && typeof o.use_file_locking !== 'boolean') throw bad('Invalid use_file_locking: expected a boolean');
  const format = o.topic_format ?? 'native';
  if (format !== 'native' && format !== 'reference') throw bad(`Invalid topic_format: ${JSON.stringify(format)}. Valid values are: native, reference`);
  return {
    rootPath: root,
    flushBehavior: flush as FlushBehavior,
    segmentBytes: optionalInt(o, 'segment_bytes', 4096, MAX_SEGMENT_BYTES),
    verifyData: verify,
    lockStaleMs: optionalInt(o, 'lock_stale_ms', 2000),
    // A held claim checks every quarter of it with a timer: more than a timer holds would check every millisecond.
    claimStaleMs: optionalInt(o, 'claim_stale_ms', 2000, MAX_TIMER_MS),
    topicFormat: format,
  };
}
