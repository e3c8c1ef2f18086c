// One partition as a consumer reads it: where it is, what it read ahead, and the refill of that read-ahead from
// the engine (synchronously when the engine allows, so delivering buffered events never waits).

import type { BackendRecord, BackendRun, ClaimHandle, PartitionBackend } from '../backend.js';
import { NO_RECORDS, RecordArrayRun } from '../record-run.js';
import { DiasporaError, ErrorCode } from '../errors.js';
import { idAt } from '../positions.js';
import { applyAnswer, engineCall, type Loading } from './backend-calls.js';
import type { StartPosition } from './options.js';
import { onPositionTrimmed, trimmedFirstId, type OnTrimmed } from './trimmed.js';

/** A caught-up partition is re-checked for new commits at most this often while others keep the consumer busy. */
export const REFRESH_INTERVAL_MS = 2;

export interface PartitionState {
  readonly index: number;
  readonly backend: PartitionBackend;
  /** Next id to read from the engine (the read-ahead holds the ids before it). */
  next: number;
  end: number;
  /** until 'end': stop before this id. */
  stopAt: number;
  /** The read-ahead: records [0, pos) of it were delivered. */
  buffer: BackendRun;
  pos: number;
  lastRefresh: number;
  claim: ClaimHandle | undefined;
  /** Claimed and positioned: events may flow. */
  active: boolean;
  committed: number | null;
  ackTarget: number | null;
  loading: Loading | undefined;
  /** retention: what to do when this partition's position was removed before it was read. */
  readonly trimmed: TrimHandling;
  /** retention: events skipped because retention removed them first (onTrimmed: 'earliest'). */
  lost: number;
  /** Another consumer of this name took the partition over: its positions are no longer this consumer's to write. */
  claimLost: boolean;
  /** Positioning the claimed partition failed (e.g. its position was trimmed): every delivery reports it. */
  failure: unknown;
}

/** retention: the consumer's policy for positions below a partition's first stored id (see trimmed.ts). */
export interface TrimHandling {
  readonly consumerName: string;
  readonly onTrimmed: OnTrimmed;
}

export function newPartitionState(index: number, backend: PartitionBackend, trimmed: TrimHandling): PartitionState {
  return {
    index,
    backend,
    next: 0,
    end: 0,
    stopAt: Infinity,
    buffer: NO_RECORDS,
    pos: 0,
    lastRefresh: 0,
    claim: undefined,
    active: false,
    committed: null,
    ackTarget: null,
    loading: undefined,
    trimmed,
    lost: 0,
    claimLost: false,
    failure: undefined,
  };
}

/** The next id this consumer delivers from the partition. */
export function deliveryPosition(st: PartitionState): number {
  return st.active ? st.next - (st.buffer.length - st.pos) : (st.committed ?? -1) + 1;
}

/** Forgets the read-ahead (it is read again from `next` on, e.g. by the threaded loop). */
export function dropReadAhead(st: PartitionState): void {
  st.next -= st.buffer.length - st.pos;
  st.buffer = NO_RECORDS;
  st.pos = 0;
}

/** Stops the partition at once (a lost claim): nothing read ahead is delivered, nothing more acknowledged. */
export function deactivate(st: PartitionState): void {
  st.active = false;
  st.claimLost = true;
  st.buffer = NO_RECORDS;
  st.pos = 0;
  st.claim = undefined;
}

/**
 * Positions a claimed partition according to `from`, `until` and its last acknowledged id. `store` (durable
 * consumers) records a position at once: 'latest' is stored at start, so that a later plain consumer goes on from
 * there even on partitions that get nothing new meanwhile (else it would replay their old events).
 */
export async function positionPartition(
  st: PartitionState, consumerName: string, committed: number | null, from: StartPosition, untilEnd: boolean,
  store?: (partition: number, id: number) => Promise<void>,
): Promise<void> {
  const b = st.backend;
  const claim = st.claim;
  // refresh() first: it also catches up with trims made by other processes, which move the first id.
  const end = await engineCall(() => b.refresh());
  const start = await engineCall(() => b.startId());
  st.end = end;
  st.lastRefresh = performance.now();
  st.committed = committed;
  if (committed !== null && committed >= end) {
    // Acknowledged events are gone (e.g. a 'buffered' log lost its tail to a power cut while the offsets file
    // kept its write). Waiting at the old position would skip the ids the next producer re-assigns.
    throw new DiasporaError(
      ErrorCode.POSITION_PAST_END,
      `consumer "${consumerName}" acknowledged event ${committed} of partition ${st.index}, but the partition ends ` +
        `at ${end} (events were lost, e.g. cut by crash recovery); move it with resetConsumer (e.g. to ${end} or 'earliest')`,
      { partition: st.index, lastAcknowledged: committed, endId: end },
    );
  }
  st.ackTarget = committed;
  const next = from === 'committed' ? (committed === null ? start : committed + 1) : await engineCall(() => idAt(b, from, start, end));
  // retention: removed events this consumer had not acknowledged (an explicit position below the first id just
  // means the first stored event, as before).
  if (from === 'committed' && next < start) st.lost += onPositionTrimmed(st.trimmed.onTrimmed, consumerName, st.index, next, start);
  st.next = Math.max(start, next);
  if (from === 'latest' && store && st.next > 0 && st.committed !== st.next - 1) {
    await store(st.index, st.next - 1);
    st.committed = st.ackTarget = st.next - 1;
  }
  if (untilEnd) st.stopAt = end;
  // The claim may have been lost during the awaits above: a lost partition stays stopped.
  if (st.claim === claim && !st.claimLost) st.active = true;
}

/**
 * The time of one delivery step, read at most once: a step looks at every partition until one has an event, and
 * each caught-up one needs the time. Read per partition, the clock cost ~30 ns a partition an event (a topic of 64
 * partitions with one busy read 6x slower than one of 1).
 */
export class StepClock {
  private at = -1;
  /** A new step: the time is read again when first needed. */
  reset(): void {
    this.at = -1;
  }
  now(): number {
    return this.at >= 0 ? this.at : (this.at = performance.now());
  }
}

/**
 * Moves a partition to its next event, from the read-ahead, else refilled from the engine (`readBatch` at a time):
 * true when there is one (at `st.pos - 1` of `st.buffer`; no record is made for it, a batch reads it by position),
 * undefined if none now, a Loading while an asynchronous engine answers. Throws a DiasporaError for an unreadable
 * event (the caller skips it).
 */
export function nextPosition(st: PartitionState, readBatch: number, clock: StepClock): true | undefined | Loading {
  if (st.pos < st.buffer.length) {
    st.pos++;
    return true;
  }
  if (!st.active) {
    if (st.failure !== undefined) throw st.failure;
    return undefined;
  }
  if (st.next >= st.stopAt) return undefined;
  if (st.loading) return st.loading;
  if (st.next >= st.end) {
    // Only a caught-up partition needs the clock (it is not read per event).
    const now = clock.now();
    if (now - st.lastRefresh < REFRESH_INTERVAL_MS) return undefined;
    st.lastRefresh = now;
    const pending = applyAnswer(() => st.backend.refresh(), (e) => void (st.end = Math.max(st.end, e)));
    if (pending) return track(st, pending);
    if (st.next >= st.end) return undefined;
  }
  // Engines read ahead in their own way (files: the mapping is there; nats: an ordered consumer streams
  // sequential reads), so batches are asked for one at a time: measured, asking ahead from here made the nats
  // driver fall back to single-message gets and read 4x slower.
  const max = Math.min(readBatch, st.stopAt - st.next, st.end - st.next);
  const claim = st.claim;
  const fill = (recs: BackendRecord[] | BackendRun): void => {
    // An asynchronous answer that arrives after the claim was lost is dropped (the partition is stopped).
    if (st.claim !== claim) return;
    st.buffer = Array.isArray(recs) ? new RecordArrayRun(recs) : recs;
    st.pos = 0;
    st.next += recs.length;
  };
  const b = st.backend;
  let pending: Loading | undefined;
  try {
    // A run where the engine makes one (no record object per event for a consumer's batches).
    pending = applyAnswer(() => (b.readRun !== undefined ? b.readRun(st.next, max) : b.readRange(st.next, max)), fill);
  } catch (err) {
    // retention: the position was removed meanwhile: skip to the first id ('earliest') or fail without moving on.
    const first = trimmedFirstId(err, st.next);
    if (first !== null) {
      st.lost += onPositionTrimmed(st.trimmed.onTrimmed, st.trimmed.consumerName, st.index, st.next, first);
      st.next = first;
      return nextPosition(st, readBatch, clock);
    }
    // One damaged event must not take the good ones of its batch with it: read that one alone (it throws, and
    // the caller skips it) and go on in batches after it.
    if (max === 1) throw err;
    pending = applyAnswer(() => b.readRange(st.next, 1), fill);
  }
  if (pending) return track(st, pending);
  if (st.buffer.length === 0) return undefined;
  st.pos = 1;
  return true;
}

/** Marks the partition as loading until the engine's answer was applied. */
function track(st: PartitionState, pending: Loading): Loading {
  st.loading = pending.then(
    () => void (st.loading = undefined),
    (err: unknown) => {
      st.loading = undefined;
      throw err;
    },
  );
  return st.loading;
}
