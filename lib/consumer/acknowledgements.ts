// Acknowledgements of one consumer: each acknowledge() only raises a partition's target; the targets are written
// together (one offsets store per changed partition) at the end of the turn of the event loop, when delivery pauses,
// or at once when somebody awaits one, so a burst of acknowledgements costs one write per partition, not one per event.

import type { OffsetsBackend } from '../backend.js';
import { CoalescedWrite } from '../coalesced-write.js';
import { Future } from '../future.js';
import { engineError, isLoading } from './backend-calls.js';
import type { PartitionState } from './partition-reader.js';

export class Acknowledgements {
  private dirty = false;
  /** Resolved once the targets set since the last write are written. */
  private pending: Future<void> | undefined;
  /**
   * When the targets are written (coalesced-write.ts): at the end of the turn, or at once when somebody awaits an
   * acknowledgement, so a loop awaiting each one pays a write per event but not a turn of the event loop as well.
   */
  private readonly writes = new CoalescedWrite(() => this.persist(), () => this.pending?.waitedFor === true);
  /**
   * A store failed: positions above what is stored are written again by the next acknowledge() (whatever its id)
   * and by close() (written(), which reports a failure). Set and read on the failure path only.
   */
  private failed = false;
  /** The consumer's durable positions; undefined for a non-durable consumer (progress in memory only). */
  offsets: OffsetsBackend | undefined;

  constructor(private readonly parts: readonly PartitionState[]) {}

  /** Raises a partition's target to `id`; the future resolves once it is written. */
  acknowledge(st: PartitionState, id: number): Future<void> {
    if (st.ackTarget === null || id > st.ackTarget) {
      st.ackTarget = id;
      if (!this.dirty) {
        this.dirty = true;
        this.writes.schedule();
      }
    } else if (this.failed && !this.dirty) {
      // An earlier store failed: this acknowledgement retries it rather than being answered as written.
      this.dirty = true;
      this.writes.schedule();
    }
    if (!this.dirty) return Future.resolved<void>(undefined);
    return (this.pending ??= new Future<void>());
  }

  /** Writes every changed position (one store per partition), then settles the pending acknowledge futures. */
  persist(): void {
    this.writes.written();
    if (!this.dirty) return;
    this.dirty = false;
    this.failed = false; // every position above what is stored is written now, those of a failed store too
    const fut = this.pending;
    this.pending = undefined;
    const stores: Promise<void>[] = [];
    let error: unknown;
    for (const st of this.parts) {
      // A lost claim's positions belong to the consumer that took it over: never move them back.
      if (st.claimLost) continue;
      if (st.ackTarget !== null && (st.committed === null || st.ackTarget > st.committed)) {
        const target = st.ackTarget;
        if (!this.offsets) {
          st.committed = target;
          continue;
        }
        try {
          const r = this.offsets.store(st.index, target);
          if (isLoading(r)) {
            stores.push(r.then(() => void (st.committed = Math.max(st.committed ?? -1, target)), (e: unknown) => {
              this.failed = true;
              throw e;
            }));
          } else st.committed = target;
        } catch (err) {
          error ??= err;
        }
      }
    }
    if (error !== undefined) this.failed = true;
    if (!fut) {
      if (stores.length > 0) Promise.all(stores).catch(() => undefined); // failures are kept in `failed`
      return;
    }
    if (error !== undefined) fut.reject(engineError(error));
    else if (stores.length === 0) fut.resolve(undefined);
    else Promise.all(stores).then(() => fut.resolve(undefined), (e: unknown) => fut.reject(engineError(e)));
  }

  /**
   * For close(): writes every position not stored yet, those of an earlier failed store included. Undefined once
   * they are written (synchronous engines), else a promise that settles when they are; it rejects (IO, ...) with a
   * failure.
   */
  written(): Promise<void> | undefined {
    if (this.failed) this.dirty = true;
    if (!this.dirty) {
      this.writes.written();
      return undefined;
    }
    const fut = (this.pending ??= new Future<void>());
    this.persist();
    return fut.completed && !this.failed ? undefined : fut.then(() => undefined);
  }
}
