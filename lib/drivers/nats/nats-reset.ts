// Moving a stopped consumer on several partitions of a NATS topic at once, all or nothing, and finishing such a move
// that a crash interrupted (the nats counterpart of storage/consumer-reset.ts). A reset, each step confirmed before
// the next:
//   1. the claim of every partition moved is taken (CONSUMER_BUSY if a live consumer holds one: nothing written);
//      an earlier reset of this consumer that a crash interrupted is finished first;
//   2. each partition's position is read, with its KV revision;
//   3. the reset's record `<topic>.<consumer>.reset` (every new position) is created in the offsets bucket: the
//      commit point;
//   4. each position is written, compare-and-set on the revision read in 2;
//   5. the record is deleted (compare-and-set).
// A failure before 3 leaves every position as it was. A write that fails in 4 puts back the positions already written
// (compare-and-set on the revisions it wrote: anything written since is not overwritten), then deletes the record.
// A crash after 3 (or an undo that cannot finish) leaves the record: whoever next holds the claim of a partition it
// lists (a consumer loading that partition, the next reset of the name) writes that partition's new position and
// takes it out of the record, so every position ends up the new one; the listing shows the record's positions.

import { randomBytes } from 'node:crypto';
import type { KV, KvEntry } from '@nats-io/kv';
import { DiasporaError, ErrorCode } from '../../errors.js';
import { sleepSync } from '../../../storage/writer-lock.js';
import type { NatsClaims } from './nats-claims.js';
import { apiCode, JsCode } from './nats-errors.js';
import { encodeOffset, kvLocation, parseResetRecord, type ResetRecord } from './nats-offset-record.js';

/**
 * Test hook: a process resetting kills itself with SIGKILL right after the step named: 'committed' (the record
 * written, no position yet), 'applied-1' (the first position written). Inert when unset.
 */
export const NATS_RESET_KILL_ENV = 'DIASPORA_TEST_NATS_RESET_KILL_AFTER';

function stepDone(step: 'committed' | 'applied-1'): void {
  if (process.env[NATS_RESET_KILL_ENV] !== step) return;
  process.kill(process.pid, 'SIGKILL');
  for (;;) sleepSync(1000); // the signal is on its way: never go on to the next step
}

const isWrongLast = (err: unknown): boolean => apiCode(err) === JsCode.WRONG_LAST_SEQUENCE || apiCode(err) === 10164;

/** What the reset needs of its topic. */
export interface ResetScope {
  readonly topic: string;
  readonly numPartitions: number;
  readonly kv: KV;
  readonly bucket: string;
  readonly claims: NatsClaims;
  positionKey(consumer: string, partition: number): string;
  resetKey(consumer: string): string;
  retry<T>(what: string, fn: () => Promise<T>): Promise<T>;
}

/** Revision of an entry for a compare-and-set (0: never written; a delete marker has one). */
const revisionOf = (e: KvEntry | null): number => e?.revision ?? 0;

/**
 * Writes `value` at `key` if its last revision is still `prev`: resolves to the new revision, or null if another
 * writer changed the key. A write retried after a timeout that had landed counts as ours (values are unique: they
 * carry the reset's id).
 */
async function putIfAt(s: ResetScope, key: string, value: string, prev: number): Promise<number | null> {
  return s.retry(`write ${kvLocation(s.bucket, key)}`, async () => {
    try {
      return await s.kv.put(key, value, { previousSeq: prev });
    } catch (err) {
      if (!isWrongLast(err)) throw err;
      const now = await s.kv.get(key);
      return now?.operation === 'PUT' && now.string() === value ? now.revision : null;
    }
  });
}

/** Deletes `key` if its last revision is still `prev`; false if another writer changed it. */
async function deleteIfAt(s: ResetScope, key: string, prev: number): Promise<boolean> {
  return s.retry(`delete ${kvLocation(s.bucket, key)}`, async () => {
    try {
      await s.kv.delete(key, { previousSeq: prev });
      return true;
    } catch (err) {
      if (!isWrongLast(err)) throw err;
      const now = await s.kv.get(key);
      return now === null || now.operation !== 'PUT'; // gone: our retried delete landed (or someone else's)
    }
  });
}

async function readRecord(s: ResetScope, consumer: string): Promise<{ record: ResetRecord; revision: number } | { absent: number }> {
  const key = s.resetKey(consumer);
  const e = await s.retry(`read ${kvLocation(s.bucket, key)}`, () => s.kv.get(key));
  if (e === null || e.operation !== 'PUT') return { absent: revisionOf(e) };
  return { record: parseResetRecord(e.string(), consumer, s.numPartitions, kvLocation(s.bucket, key)), revision: e.revision };
}

/**
 * Call holding the claim of `partition`: writes the position an interrupted reset recorded for it and takes it out of
 * the record (the record is deleted once empty). CORRUPTION for a damaged record.
 */
export async function settlePartition(s: ResetScope, consumer: string, partition: number): Promise<void> {
  for (;;) {
    const r = await readRecord(s, consumer);
    if ('absent' in r) return;
    const move = r.record.moves.find((m) => m.partition === partition);
    if (move === undefined) return;
    const key = s.positionKey(consumer, partition);
    const value = encodeOffset(consumer, partition, move.last, r.record.id);
    for (;;) {
      const cur = await s.retry(`read ${kvLocation(s.bucket, key)}`, () => s.kv.get(key));
      if (cur?.operation === 'PUT' && cur.string() === value) break; // the reset wrote it before it stopped
      if ((await putIfAt(s, key, value, revisionOf(cur))) !== null) break;
    }
    const rest = r.record.moves.filter((m) => m !== move);
    const recordKey = s.resetKey(consumer);
    const done = rest.length === 0
      ? await deleteIfAt(s, recordKey, r.revision)
      : (await putIfAt(s, recordKey, JSON.stringify({ ...r.record, moves: rest }), r.revision)) !== null;
    if (done) return;
    // another holder settled its own partition meanwhile: read the record again
  }
}

/** The positions an interrupted reset recorded and no claim holder has written yet (empty for a damaged record). */
export function pendingPositions(text: string, consumer: string, numPartitions: number, location: string): Map<number, number | null> {
  try {
    return new Map(parseResetRecord(text, consumer, numPartitions, location).moves.map((m) => [m.partition, m.last]));
  } catch {
    return new Map(); // a damaged record: the consumer and the next reset report it
  }
}

/** Finishes an interrupted reset of `consumer` on every partition it lists that no live consumer holds. */
async function settleInterrupted(s: ResetScope, consumer: string, mine: ReadonlySet<number>): Promise<void> {
  const r = await readRecord(s, consumer);
  if ('absent' in r) return;
  for (const { partition } of r.record.moves) {
    if (mine.has(partition)) {
      await settlePartition(s, consumer, partition);
      continue;
    }
    let claim;
    try {
      claim = await s.claims.acquire(s.positionKey(consumer, partition), claimWhat(s, consumer, partition), { standby: false });
    } catch (err) {
      if (err instanceof DiasporaError && err.code === ErrorCode.CONSUMER_BUSY) continue; // its holder settles it
      throw err;
    }
    try {
      await settlePartition(s, consumer, partition);
    } finally {
      await claim.release();
    }
  }
}

const claimWhat = (s: ResetScope, consumer: string, p: number): string => `partition ${p} of topic "${s.topic}" for consumer "${consumer}"`;

function checkMoves(s: ResetScope, moves: ReadonlyArray<readonly [number, number | null]>): void {
  const seen = new Set<number>();
  for (const [p, last] of moves) {
    if (!Number.isInteger(p) || p < 0) throw new TypeError('partitions must be non-negative integers');
    if (p >= s.numPartitions) throw new DiasporaError(ErrorCode.OUT_OF_RANGE, `topic "${s.topic}" has no partition ${p}`);
    if (seen.has(p)) throw new DiasporaError(ErrorCode.OUT_OF_RANGE, `partition ${p} is given twice`);
    seen.add(p);
    if (last !== null && (!Number.isSafeInteger(last) || last < 0)) throw new DiasporaError(ErrorCode.OUT_OF_RANGE, `${String(last)} is not an event id`);
  }
}

interface Written {
  partition: number;
  /** What the key held before (null: no position), and its revision. */
  before: KvEntry | null;
  /** The revision of our write. */
  revision: number;
}

/** Sets the positions of a consumer that is not running, all or nothing (the steps above). */
export async function resetPositions(s: ResetScope, consumer: string, moves: ReadonlyArray<readonly [partition: number, lastAcked: number | null]>): Promise<void> {
  checkMoves(s, moves);
  if (moves.length === 0) return;
  const sorted = [...moves].sort((a, b) => a[0] - b[0]);
  await withClaims(s, consumer, sorted.map(([p]) => p), async (held) => {
    await settleInterrupted(s, consumer, new Set(sorted.map(([p]) => p)));
    const before = new Map<number, KvEntry | null>();
    for (const [p] of sorted) {
      const key = s.positionKey(consumer, p);
      before.set(p, await s.retry(`read ${kvLocation(s.bucket, key)}`, () => s.kv.get(key)));
    }
    const r = await readRecord(s, consumer);
    const recordKey = s.resetKey(consumer);
    const busy = (): DiasporaError =>
      new DiasporaError(ErrorCode.CONSUMER_BUSY, `consumer "${consumer}" of topic "${s.topic}": another reset of it is under way (${kvLocation(s.bucket, recordKey)}); try again`);
    if (!('absent' in r)) throw busy();
    if (held.some((h) => h.lost)) throw lostClaim(s, consumer);
    const record: ResetRecord = { version: 1, consumer, id: randomBytes(8).toString('hex'), moves: sorted.map(([partition, last]) => ({ partition, last })) };
    const recordRevision = await putIfAt(s, recordKey, JSON.stringify(record), r.absent);
    if (recordRevision === null) throw busy();
    stepDone('committed');
    const written: Written[] = [];
    try {
      for (const [p, last] of sorted) {
        const key = s.positionKey(consumer, p);
        const prev = before.get(p)!;
        const revision = await putIfAt(s, key, encodeOffset(consumer, p, last, record.id), revisionOf(prev));
        if (revision === null) throw new DiasporaError(ErrorCode.CONSUMER_BUSY, `the position of consumer "${consumer}" on partition ${p} of topic "${s.topic}" was written by someone else during the reset`, { partition: p });
        written.push({ partition: p, before: prev, revision });
        if (written.length === 1) stepDone('applied-1');
      }
    } catch (err) {
      throw await undo(s, consumer, recordKey, recordRevision, written, err, sorted.find(([p]) => !written.some((w) => w.partition === p))?.[0]);
    }
    // Failing here leaves a record whose positions are all written: finishing it writes them again, harmlessly.
    await deleteIfAt(s, recordKey, recordRevision).catch(() => undefined);
  });
}

type HeldClaim = Awaited<ReturnType<NatsClaims['acquire']>>;

/**
 * Runs `body` holding the claims of `partitions` of `consumer`, taken in order before it starts (CONSUMER_BUSY, as
 * `busy` words it when given, while a live consumer holds one) and released after it (a claim that cannot be released
 * expires after its TTL).
 */
async function withClaims<T>(
  s: ResetScope, consumer: string, partitions: readonly number[], body: (held: readonly HeldClaim[]) => Promise<T>,
  busy?: (partition: number, err: DiasporaError) => DiasporaError,
): Promise<T> {
  const held: HeldClaim[] = [];
  try {
    for (const p of partitions) {
      try {
        held.push(await s.claims.acquire(s.positionKey(consumer, p), claimWhat(s, consumer, p), { standby: false }));
      } catch (err) {
        if (busy !== undefined && err instanceof DiasporaError && err.code === ErrorCode.CONSUMER_BUSY) throw busy(p, err);
        throw err;
      }
    }
    return await body(held);
  } finally {
    for (const h of held) await Promise.resolve(h.release()).catch(() => undefined);
  }
}

/**
 * Deletes every position of a consumer that is not running, and the record of a reset of it that a crash interrupted:
 * the claim of every partition is taken first (CONSUMER_BUSY, nothing deleted, while a live consumer holds one).
 * Each key is deleted compare-and-set on the revision read; a failure part way leaves the rest, and deleting again
 * finishes. Resolves false when there was nothing to delete.
 */
export async function deletePositions(s: ResetScope, consumer: string): Promise<boolean> {
  const all = Array.from({ length: s.numPartitions }, (_, p) => p);
  const busy = (p: number, err: DiasporaError): DiasporaError =>
    new DiasporaError(ErrorCode.CONSUMER_BUSY, `consumer "${consumer}" of topic "${s.topic}" is live (it holds partition ${p}): close it before deleting it`, { ...err.details, partition: p, cause: err });
  return withClaims(s, consumer, all, async (held) => {
    let found = false;
    for (const key of [s.resetKey(consumer), ...all.map((p) => s.positionKey(consumer, p))]) {
      for (;;) {
        const e = await s.retry(`read ${kvLocation(s.bucket, key)}`, () => s.kv.get(key));
        if (e === null || e.operation !== 'PUT') break;
        if (held.some((h) => h.lost)) throw lostClaim(s, consumer);
        found = true;
        if (await deleteIfAt(s, key, e.revision)) break;
      }
    }
    return found;
  }, busy);
}

function lostClaim(s: ResetScope, consumer: string): DiasporaError {
  return new DiasporaError(ErrorCode.CONSUMER_BUSY, `consumer "${consumer}" of topic "${s.topic}": the reset lost a partition's claim (it stalled past claim_ttl_ms); nothing was moved`);
}

/**
 * Puts back the positions written (compare-and-set on our revisions: a position written since by another client is
 * kept, not overwritten), then deletes the record; the error to throw says what became of the reset. If a position
 * cannot be put back (a failing connection), the record stays and the reset is finished later instead.
 */
async function undo(s: ResetScope, consumer: string, recordKey: string, recordRevision: number, written: Written[], err: unknown, failed: number | undefined): Promise<DiasporaError> {
  const cause = err instanceof DiasporaError ? err : new DiasporaError(ErrorCode.IO, String((err as Error)?.message ?? err), { cause: err });
  const head = `reset of consumer "${consumer}" on topic "${s.topic}" failed${failed === undefined ? '' : ` at partition ${failed}`}: ${cause.message}`;
  const keptOthers: number[] = [];
  let problem: string | null = null;
  for (const w of [...written].reverse()) {
    const key = s.positionKey(consumer, w.partition);
    try {
      const ok = w.before === null || w.before.operation !== 'PUT'
        ? await deleteIfAt(s, key, w.revision)
        : (await putIfAt(s, key, w.before.string(), w.revision)) !== null;
      if (!ok) keptOthers.push(w.partition);
    } catch (e) {
      problem ??= `partition ${w.partition}: ${(e as Error).message}`;
    }
  }
  if (problem === null) {
    try {
      if (await deleteIfAt(s, recordKey, recordRevision)) {
        const kept = keptOthers.length === 0 ? '' : ` (partitions ${keptOthers.join(', ')} keep what another client wrote meanwhile)`;
        return new DiasporaError(cause.code, `${head}; no position was moved${kept}`, { ...cause.details, cause: err });
      }
      problem = 'its record was changed by someone else';
    } catch (e) {
      problem = `its record could not be deleted: ${(e as Error).message}`;
    }
  }
  return new DiasporaError(
    cause.code,
    `${head}; it could not be undone (${problem}): it stays recorded at ${kvLocation(s.bucket, recordKey)} and is finished, every partition moved, by the next consumer of that name or the next reset`,
    { ...cause.details, cause: err },
  );
}
