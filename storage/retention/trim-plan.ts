// Which segments of a partition retention removes: a pure function of the segments, the policy, what the named
// consumers acknowledged and the time. Only a prefix of sealed segments is ever removed (the first id moves
// forward; ids in the middle never vanish), and the last segment (the one written to) never.
import type { RetentionPolicy } from './retention-policy.js';

export interface SegmentSummary {
  baseId: number;
  /** One past its last id. */
  endId: number;
  /** Bytes of its three files on disk. */
  bytes: number;
  /** Timestamp of its newest event; null when it holds none (or its last entry cannot be read: kept then). */
  newestTimestamp: number | null;
}

export type TrimReason = 'age' | 'size' | 'acknowledged';

export interface TrimPlan {
  /** The partition's first id after the trim (unchanged when nothing is removed). */
  firstId: number;
  /** The segments removed, oldest first, each with the reason that removed it. */
  removed: Array<SegmentSummary & { reason: TrimReason }>;
  /** Bytes of the segments removed. */
  bytes: number;
}

/**
 * `segments` in id order, the last one being the one still written to. `ackedFloor`: the lowest id not yet
 * acknowledged by every consumer the policy waits for (null: it waits for none); a segment is only removed once all
 * its ids are below it.
 */
export function planTrim(segments: readonly SegmentSummary[], policy: RetentionPolicy | null, ackedFloor: number | null, now: number): TrimPlan {
  const first = segments[0];
  const plan: TrimPlan = { firstId: first?.baseId ?? 0, removed: [], bytes: 0 };
  if (policy === null || first === undefined) return plan;
  let retained = 0;
  for (const s of segments) retained += s.bytes;
  const ackOnly = policy.maxAgeMs === undefined && policy.maxBytes === undefined;
  for (let i = 0; i < segments.length - 1; i++) {
    const s = segments[i]!;
    let reason: TrimReason | null = null;
    if (policy.maxAgeMs !== undefined && s.newestTimestamp !== null && s.newestTimestamp <= now - policy.maxAgeMs) reason = 'age';
    else if (policy.maxBytes !== undefined && retained > policy.maxBytes) reason = 'size';
    else if (ackOnly) reason = 'acknowledged';
    // A segment whose newest event cannot be read is never removed by age alone: its age is unknown.
    if (reason === null || (ackedFloor !== null && s.endId > ackedFloor)) break;
    plan.removed.push({ ...s, reason });
    plan.bytes += s.bytes;
    plan.firstId = s.endId;
    retained -= s.bytes;
  }
  return plan;
}

/** The newest timestamp of `segments` (null: none known): what a trim removing them records as the timestamp floor. */
export function newestOf(segments: readonly SegmentSummary[]): number | null {
  let newest: number | null = null;
  for (const s of segments) if (s.newestTimestamp !== null && (newest === null || s.newestTimestamp > newest)) newest = s.newestTimestamp;
  return newest;
}

/**
 * The floor `planTrim` needs: the lowest next-unacknowledged id among the consumers the policy waits for, given each
 * known consumer's last acknowledged id in this partition (null or absent: nothing acknowledged, floor 0).
 */
export function ackedFloorOf(policy: RetentionPolicy | null, lastAcked: ReadonlyMap<string, number | null>): number | null {
  const wanted = policy?.keepUntilAckedBy;
  if (wanted === undefined) return null;
  const names = wanted === '*' ? [...lastAcked.keys()] : wanted;
  // '*' with no consumer known yet waits for nobody; a listed consumer that never acknowledged keeps everything.
  if (names.length === 0) return ackOnlyNobody(policy!);
  let floor = Infinity;
  for (const n of names) {
    const last = lastAcked.get(n);
    floor = Math.min(floor, last === undefined || last === null ? 0 : last + 1);
  }
  return floor;
}

/** '*' and no consumer known: an acknowledgement-only policy removes nothing (nobody acknowledged anything). */
function ackOnlyNobody(policy: RetentionPolicy): number | null {
  return policy.maxAgeMs === undefined && policy.maxBytes === undefined ? 0 : null;
}
