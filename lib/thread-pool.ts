// ThreadPool: where `Consumer.process` runs its work, and how many producer jobs run at once.
// A pool of n >= 1 threads owns n worker threads (lib/threads/), started on first use: `Consumer.process` runs the
// data selector, allocator and processor there when they are named by module (a closure cannot cross a thread).
// `pushWork` takes closures, so its jobs run on the calling thread: inline with 0 threads, else up to n at once
// (overlapping asynchronous jobs such as engine writes). Jobs of higher priority start first.

import { WorkerGroup } from './threads/worker-group.js';

export class ThreadPool {
  private group: WorkerGroup | undefined;

  private readonly queue: Array<{ job: () => unknown; priority: number; seq: number; resolve: (v: unknown) => void; reject: (e: unknown) => void }> = [];
  private running = 0;
  private seq = 0;

  constructor(readonly threadCount: number) {
    if (!Number.isInteger(threadCount) || threadCount < 0) throw new TypeError('threadCount must be a non-negative integer');
  }

  /** @internal The pool's worker threads (none for a 0-thread pool). */
  get workers(): WorkerGroup | undefined {
    if (this.threadCount === 0) return undefined;
    return (this.group ??= new WorkerGroup(this.threadCount));
  }

  /** Worker threads currently running (they start on first use and stop when the last consumer using them closes). */
  get liveThreads(): number {
    return this.group?.liveThreads ?? 0;
  }

  /**
   * Terminates the worker threads now (work still running in them is abandoned: close the consumers first, which
   * drains them). The pool stays usable: threads start again on next use.
   */
  async close(): Promise<void> {
    await this.group?.terminate();
  }

  /** Jobs waiting to start plus jobs running. */
  get size(): number {
    return this.queue.length + this.running;
  }

  /**
   * Runs `job` on the calling thread (inline for a 0-thread pool, else when one of the n slots is free) and resolves
   * with its result.
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
