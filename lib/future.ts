// Future<T>: the result of an asynchronous Diaspora operation (push, flush, pull, acknowledge).
// Awaitable like a promise, plus `wait(timeoutMs)` and `completed` as in the reference API.
// A Promise is only created when somebody awaits, so the hot path (millions of pushes) stays cheap.

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

export class Future<T> implements PromiseLike<T> {
  private result: Settled<T> | undefined;
  private listeners: Array<(r: Settled<T>) => void> | undefined;
  private promise: Promise<T> | undefined;

  /** A future already resolved with `value`. */
  static resolved<T>(value: T): Future<T> {
    const f = new Future<T>();
    f.result = { ok: true, value };
    return f;
  }

  /** A future already failed with `error`. */
  static rejected<T>(error: unknown): Future<T> {
    const f = new Future<T>();
    f.result = { ok: false, error };
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
    return this.result !== undefined;
  }

  /** @internal settle the future; later calls are ignored. */
  resolve(value: T): void {
    this.settle({ ok: true, value });
  }

  /** @internal */
  reject(error: unknown): void {
    this.settle({ ok: false, error });
  }

  private settle(r: Settled<T>): void {
    if (this.result !== undefined) return;
    this.result = r;
    const ls = this.listeners;
    this.listeners = undefined;
    if (ls) for (const l of ls) l(r);
  }

  private onSettled(l: (r: Settled<T>) => void): void {
    if (this.result !== undefined) l(this.result);
    else (this.listeners ??= []).push(l);
  }

  private asPromise(): Promise<T> {
    if (this.promise) return this.promise;
    const r = this.result;
    if (r !== undefined) {
      this.promise = r.ok ? Promise.resolve(r.value) : Promise.reject(r.error);
    } else {
      this.promise = new Promise<T>((resolve, reject) => {
        this.onSettled((s) => (s.ok ? resolve(s.value) : reject(s.error)));
      });
    }
    return this.promise;
  }

  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.asPromise().then(onfulfilled, onrejected);
  }

  catch<R = never>(onrejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<T | R> {
    return this.asPromise().catch(onrejected);
  }

  /**
   * Waits at most `timeoutMs` milliseconds. Resolves to the value, or `undefined` on timeout (nothing is lost:
   * the value is still delivered by a later wait or await). A negative timeout waits forever; 0 polls.
   * Rejects with the operation's error.
   */
  wait(timeoutMs = -1): Promise<T | undefined> {
    if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs)) throw new TypeError('timeoutMs must be a number');
    const r = this.result;
    if (r !== undefined) return r.ok ? Promise.resolve(r.value) : Promise.reject(r.error);
    if (timeoutMs < 0) return this.asPromise();
    if (timeoutMs === 0) return Promise.resolve(undefined);
    return new Promise<T | undefined>((resolve, reject) => {
      const timer = setTimeout(() => resolve(undefined), timeoutMs);
      this.onSettled((s) => {
        clearTimeout(timer);
        if (s.ok) resolve(s.value);
        else reject(s.error);
      });
    });
  }
}
