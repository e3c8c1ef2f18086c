// ThreadPool: where producers and `Consumer.process` run their jobs.
// Node runs JavaScript on one thread, so a pool does not add CPU parallelism: with 0 "threads" jobs run inline
// (synchronously, in the caller), and with n > 0 up to n jobs run concurrently, which lets asynchronous jobs
// (processors that await I/O, timers, other services) overlap. Jobs of higher priority start first.

export class ThreadPool {
  private readonly queue: Array<{ job: () => unknown; priority: number; seq: number; resolve: (v: unknown) => void; reject: (e: unknown) => void }> = [];
  private running = 0;
  private seq = 0;

  constructor(readonly threadCount: number) {
    if (!Number.isInteger(threadCount) || threadCount < 0) throw new TypeError('threadCount must be a non-negative integer');
  }

  /** Jobs waiting to start plus jobs running. */
  get size(): number {
    return this.queue.length + this.running;
  }

  /**
   * Runs `job` (inline for a 0-thread pool, else when one of the n slots is free) and resolves with its result.
   * Higher `priority` starts first; equal priorities run in submission order.
   */
  pushWork<T>(job: () => T | PromiseLike<T>, priority = 0): Promise<T> {
    if (typeof job !== 'function') throw new TypeError('job must be a function');
    if (this.threadCount === 0) {
      try {
        return Promise.resolve(job());
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ job, priority, seq: this.seq++, resolve: resolve as (v: unknown) => void, reject });
      if (priority !== 0) this.queue.sort((a, b) => b.priority - a.priority || a.seq - b.seq);
      this.pump();
    });
  }

  private pump(): void {
    while (this.running < this.threadCount && this.queue.length > 0) {
      const item = this.queue.shift()!;
      this.running++;
      let result: unknown;
      try {
        result = item.job();
      } catch (err) {
        this.running--;
        item.reject(err);
        continue;
      }
      Promise.resolve(result).then(
        (v) => {
          this.running--;
          item.resolve(v);
          this.pump();
        },
        (e) => {
          this.running--;
          item.reject(e);
          this.pump();
        },
      );
    }
  }
}

let defaultPool: ThreadPool | undefined;
/** The shared inline (0-thread) pool used when none is given. */
export function defaultThreadPool(): ThreadPool {
  return (defaultPool ??= new ThreadPool(0));
}
export function makeThreadPool(count: number): ThreadPool {
  return new ThreadPool(count);
}
