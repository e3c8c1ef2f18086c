// A wake-up that many waits listen to, each taking its listener off when it ends. Racing a long-lived pending
// promise instead (Promise.race([wait, stopped])) leaves one reaction per race on it for as long as it stays
// pending: a consumer tailing a partition waits once per commit and kept 565 bytes per wait, without bound.

/**
 * The reason to abort a finished wait's AbortController with: aborted without one, it builds a DOMException (with
 * a stack trace) each time, and a tailing consumer ends a wait per batch it receives.
 */
export const WAIT_OVER: Error = Object.freeze(new Error('the wait is over'));

export class WakeSignal {
  private readonly listeners = new Set<() => void>();
  private latched = false;

  /** `latches`: once fired, it stays fired (a stop); otherwise each fire() wakes the waits listening then. */
  constructor(private readonly latches = false) {}

  /** A latching signal fired already. */
  get fired(): boolean {
    return this.latched;
  }

  fire(): void {
    if (this.latches) this.latched = true;
    const listeners = [...this.listeners];
    this.listeners.clear();
    for (const l of listeners) l();
  }

  /**
   * The outcome of the first of `promises` to settle, or `undefined` once one of `signals` fires (at once if a
   * latching one fired already). Listeners are taken off the signals as soon as it is decided.
   */
  static race<T>(promises: readonly Promise<T>[], signals: readonly WakeSignal[]): Promise<T | undefined> {
    if (signals.some((s) => s.latched)) return Promise.resolve(undefined);
    return new Promise<T | undefined>((resolve, reject) => {
      let settled = false;
      const off = (): void => {
        settled = true;
        for (const s of signals) s.listeners.delete(onFire);
      };
      const onFire = (): void => {
        if (settled) return;
        off();
        resolve(undefined);
      };
      for (const s of signals) s.listeners.add(onFire);
      for (const p of promises) {
        p.then(
          (v) => {
            if (settled) return;
            off();
            resolve(v);
          },
          (err: unknown) => {
            if (settled) return;
            off();
            reject(err);
          },
        );
      }
    });
  }

  /** How many waits listen now (for tests). */
  get listening(): number {
    return this.listeners.size;
  }
}
