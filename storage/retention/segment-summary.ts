// What the trim planner needs to know of each segment (trim-plan.ts), read from the files: sizes by stat, and
// the newest timestamp from the segment's last index entry (one pread; a sealed segment's descriptor is not kept).
import fs from 'node:fs';
import { ENTRY_SIZE, entryIsValid, entryTimestamp } from '../index-entry.js';
import { sizeOrNull } from '../fs-helpers.js';
import type { Segment } from '../segment.js';
import type { RetentionPolicy } from './retention-policy.js';
import type { SegmentSummary } from './trim-plan.js';

function segmentBytes(seg: Segment): number {
  return (sizeOrNull(seg.paths.index) ?? 0) + (sizeOrNull(seg.paths.meta) ?? 0) + (sizeOrNull(seg.paths.data) ?? 0);
}

/** Timestamp of entry `pos` read from the index file; null if it cannot be read or fails its checksum. */
function timestampAt(seg: Segment, pos: number): number | null {
  const buf = Buffer.alloc(ENTRY_SIZE);
  let fd: number;
  try {
    fd = fs.openSync(seg.paths.index, 'r');
  } catch {
    return null;
  }
  try {
    if (fs.readSync(fd, buf, 0, ENTRY_SIZE, pos * ENTRY_SIZE) !== ENTRY_SIZE) return null;
  } finally {
    fs.closeSync(fd);
  }
  return entryIsValid(buf, 0) ? entryTimestamp(buf, 0) : null;
}

/** Summaries of a partition's segments in id order (the last one still being written to). */
export function summarizeSegments(segments: readonly Segment[]): SegmentSummary[] {
  return segments.map((seg, i) => {
    const next = segments[i + 1];
    if (next === undefined) return { baseId: seg.baseId, endId: seg.endId, bytes: segmentBytes(seg), newestTimestamp: seg.lastTimestamp() };
    const count = next.baseId - seg.baseId;
    const newest = seg.count === count ? seg.lastTimestamp() : count > 0 ? timestampAt(seg, count - 1) : null;
    return { baseId: seg.baseId, endId: next.baseId, bytes: segmentBytes(seg), newestTimestamp: newest };
  });
}

/**
 * True when the last segment should be sealed (a new one started): it holds events and its oldest one is past the
 * age limit. The segment being written thus rolls by age as well as by size, so that age retention acts on a quiet
 * partition (whose last segment would otherwise stay forever) and on a slow one (whose segments would otherwise span
 * far more than the age limit): events are kept at most about twice `maxAgeMs` (plus the time between trims).
 */
export function lastSegmentDueToRoll(segments: readonly Segment[], policy: RetentionPolicy | null, now: number): boolean {
  const last = segments[segments.length - 1];
  if (last === undefined || policy?.maxAgeMs === undefined || last.count === 0) return false;
  const oldest = timestampAt(last, 0);
  return oldest !== null && oldest <= now - policy.maxAgeMs;
}
