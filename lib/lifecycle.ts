// One lifecycle for Driver, TopicHandle, Producer and Consumer: a status that only moves forward
// (opening -> open -> closing -> closed), and the one error (CLOSED) for using an object that is closing or closed.

import { DiasporaError, ErrorCode } from './errors.js';

export type LifecycleStatus = 'opening' | 'open' | 'closing' | 'closed';

const ORDER: Record<LifecycleStatus, number> = { opening: 0, open: 1, closing: 2, closed: 3 };

export class Lifecycle {
  private current: LifecycleStatus = 'opening';

  /** `what` names the object in the CLOSED message (e.g. `consumer "x"`). */
  constructor(private readonly what: () => string) {}

  get status(): LifecycleStatus {
    return this.current;
  }

  /** close() began or ended. */
  get ending(): boolean {
    // Read per delivered event by the consumer: two identity comparisons, no lookup.
    return this.current === 'closing' || this.current === 'closed';
  }

  get isClosed(): boolean {
    return this.current === 'closed';
  }

  /** Moves forward to `next`; a step back (e.g. open after a close began) is ignored: closing always wins. */
  to(next: LifecycleStatus): void {
    if (ORDER[next] > ORDER[this.current]) this.current = next;
  }

  closedError(): DiasporaError {
    return new DiasporaError(ErrorCode.CLOSED, `${this.what()} is closed`);
  }

  /** Throws CLOSED once close() began. */
  check(): void {
    if (this.ending) throw this.closedError();
  }
}
