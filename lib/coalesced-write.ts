// When a coalesced write happens: the producer's adaptive batch and a consumer's acknowledgements both gather work and
// write it in one go. Two microtasks after the first piece of work (by then an `await` of the future handed out for
// it has called its then()), the write is done at once if somebody waits for it, else at the end of the current turn
// of the event loop, so that work arriving one piece per microtask (a `for await` loop that does not wait) still goes
// out together. An owner that wrote everything meanwhile (a flush, delivery pausing) says so with written(), which
// cancels what is scheduled: a pending setImmediate would keep the owner alive until the event loop turns.

export class CoalescedWrite {
  private scheduled = false;
  private immediate: NodeJS.Immediate | undefined;

  /** `write` writes everything gathered (and calls written()); `waited` tells whether somebody waits for it now. */
  constructor(
    private readonly write: () => void,
    private readonly waited: () => boolean,
  ) {}

  /** Work was gathered: schedules its write (once until it is written). */
  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => queueMicrotask(this.check));
  }

  /** Everything gathered is written: whatever is scheduled has nothing left to do. */
  written(): void {
    this.scheduled = false;
    if (this.immediate !== undefined) {
      clearImmediate(this.immediate);
      this.immediate = undefined;
    }
  }

  private readonly check = (): void => {
    if (!this.scheduled) return;
    if (this.waited()) this.write();
    else this.immediate = setImmediate(this.atTurnEnd);
  };

  private readonly atTurnEnd = (): void => {
    this.immediate = undefined;
    this.write();
  };
}
