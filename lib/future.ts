// Future<T>: the result of an asynchronous Diaspora operation (push, flush, pull, acknowledge).
// Awaitable like a promise, plus `wait(timeoutMs)` and `completed` as in the reference API.
// A Promise is only created when somebody awaits, so the hot path (millions of pushes) stays cheap.

import { MAX_TIMER_MS } from './timer-limit.js';

// Settled in place (state, value, error) rather than as a result object: a producer settles one future per event.
const PENDING = 0;
const RESOLVED = 1;
const REJECTED = 2;

export class Future<T> implements PromiseLike<T> {
  private state = PENDING;
  private value: T | undefined;
  private error: unknown;
  private listeners: Array<() => void> | undefined;
  private promise: Promise<T> | undefined;
  private waited = false;

  /** A future already resolved with `value`. */
  static resolved<T>(value: T): Future<T> {
    const f = new Future<T>();
    f.resolve(value);
    return f;
  }

  /** A future already failed with `error`. */
  static rejected<T>(error: unknown): Future<T> {
    const f = new Future<T>();
    f.reject(error);
    return f;
  }

  /** A future that follows a promise. */
  static fromPromise<T>(p: PromiseLike<T>): Future<T> {
    const f = new Future<T>();
    p.then(
      (v) => f.resolve(v),
      (e) => f.reject(e),
    );
    return f;
  }

  /** True once the operation finished (successfully or not). */
  get completed(): boolean {
    return this.state !== PENDING;
  }

  /**
   * @internal true once somebody waits for the outcome: `await` (and Promise.all/race/resolve), which call `then()`
   * with both handlers, or `wait()`. A `then(callback)` or `catch()` alone only reacts to it, as a pipeline that
   * acknowledges each forwarded event does. (The producer writes an adaptive batch at once when somebody waits.)
   */
  get waitedFor(): boolean {
    return this.waited;
  }

  /** @internal settle the future; later calls are ignored. */
  resolve(value: T): void {
    if (this.state !== PENDING) return;
    this.state = RESOLVED;
    this.value = value;
    this.notify();
  }

  /** @internal */
  reject(error: unknown): void {
    if (this.state !== PENDING) return;
    this.state = REJECTED;
    this.error = error;
    this.notify();
  }

  private notify(): void {
    const ls = this.listeners;
    if (ls === undefined) return;
    this.listeners = undefined;
    for (const l of ls) l();
  }

  /** Calls `l` once settled (at once if it is). */
  private onSettled(l: () => void): void {
    if (this.state !== PENDING) l();
    else (this.listeners ??= []).push(l);
  }

  /** Forgets a listener that is no longer needed (a timed-out wait): a polling loop must not pile them up. */
  private offSettled(l: () => void): void {
    const ls = this.listeners;
    const i = ls === undefined ? -1 : ls.indexOf(l);
    if (i >= 0) ls!.splice(i, 1);
  }

  /** A promise of the settled outcome (call only once settled). */
  private settledPromise(): Promise<T> {
    return this.state === RESOLVED ? Promise.resolve(this.value as T) : Promise.reject(this.error);
  }

  private asPromise(): Promise<T> {
    if (this.promise) return this.promise;
    if (this.state !== PENDING) {
      this.promise = this.settledPromise();
    } else {
      this.promise = new Promise<T>((resolve, reject) => {
        this.onSettled(() => (this.state === RESOLVED ? resolve(this.value as T) : reject(this.error)));
      });
    }
    return this.promise;
  }

  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    if (typeof onfulfilled === 'function' && typeof onrejected === 'function') this.waited = true;
    return this.asPromise().then(onfulfilled, onrejected);
  }

  catch<R = never>(onrejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<T | R> {
    return this.asPromise().catch(onrejected);
  }

  /**
   * Waits at most `timeoutMs` milliseconds. Resolves to the value, or `undefined` on timeout (nothing is lost:
   * the value is still delivered by a later wait or await). A negative timeout, Infinity or one above MAX_TIMER_MS
   * (~24.8 days) waits forever; 0 polls. Rejects with the operation's error.
   */
  wait(timeoutMs = -1): Promise<T | undefined> {
    if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs)) throw new TypeError('timeoutMs must be a number');
    this.waited = true;
    if (this.state !== PENDING) return this.settledPromise();
    if (timeoutMs < 0 || timeoutMs > MAX_TIMER_MS) return this.asPromise();
    if (timeoutMs === 0) return Promise.resolve(undefined);
    return new Promise<T | undefined>((resolve, reject) => {
      const settled = (): void => {
        clearTimeout(timer);
        if (this.state === RESOLVED) resolve(this.value as T);
        else reject(this.error);
      };
      const timer = setTimeout(() => {
        this.offSettled(settled);
        resolve(undefined);
      }, timeoutMs);
      this.onSettled(settled);
    });
  }
}
