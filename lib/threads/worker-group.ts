// The worker threads of one ThreadPool, and the sessions (one per consumer using the pool) they serve.
// Workers start lazily (creating a pool costs nothing), are unref'd while idle (a forgotten pool never keeps the
// process alive) and are terminated when the last session ends or the pool is closed.

import { Worker } from 'node:worker_threads';
import { DiasporaError, ErrorCode } from '../errors.js';
import { fromWire, type FromWorker, type JobResult, type SessionSpec, type ToWorker } from './protocol.js';

type Pending = { resolve: (r: JobResult | undefined) => void; reject: (e: unknown) => void };
type Request = ToWorker extends infer M ? (M extends { req: number } ? Omit<M, 'req'> : never) : never;

/** An idle worker asked to exit gets this long to close its topics and flush its output before it is terminated. */
const EXIT_GRACE_MS = 2000;

class WorkerSlot {
  readonly worker: Worker;
  /** Requests sent and not answered yet. */
  inFlight = 0;
  /** Sessions opened in this worker: the open request's reply. */
  readonly opened = new Map<number, Promise<unknown>>();
  failure: Error | undefined;
  exited = false;
  private readonly pending = new Map<number, Pending>();
  private nextReq = 1;

  constructor(onAck: (session: number, partition: number, id: number, through?: number) => void) {
    this.worker = new Worker(new URL('./worker-entry.js', import.meta.url));
    this.worker.unref();
    this.worker.on('message', (m: FromWorker) => {
      if (m.t === 'ack') {
        onAck(m.session, m.partition, m.id, m.through);
        return;
      }
      const p = this.pending.get(m.req);
      if (!p) return;
      this.pending.delete(m.req);
      if (--this.inFlight === 0) this.worker.unref();
      if (m.ok) p.resolve(m.result);
      else p.reject(fromWire(m.error));
    });
    this.worker.on('error', (err) => this.fail(new DiasporaError(ErrorCode.GENERIC, `worker thread failed: ${err.message}`, { cause: err })));
    this.worker.on('exit', (code) => {
      this.exited = true;
      this.fail(new DiasporaError(ErrorCode.GENERIC, `worker thread exited (code ${code})`));
    });
  }

  request(msg: Request): Promise<JobResult | undefined> {
    if (this.failure) return Promise.reject(this.failure);
    const req = this.nextReq++;
    return new Promise((resolve, reject) => {
      this.pending.set(req, { resolve, reject });
      if (this.inFlight++ === 0) this.worker.ref();
      this.worker.postMessage({ ...msg, req } as ToWorker);
    });
  }

  /**
   * Ends the thread: an idle one exits on its own (closing its topics, flushing what it printed), a busy one (work
   * that outlived its consumer's close grace) or one that does not exit in time is terminated.
   */
  async stop(): Promise<void> {
    const busy = this.inFlight > 0;
    this.fail(new DiasporaError(ErrorCode.CLOSED, 'thread pool closed'));
    if (this.exited) return;
    if (!busy) {
      const exited = new Promise<boolean>((r) => this.worker.once('exit', () => r(true)));
      this.worker.ref();
      this.worker.postMessage({ t: 'exit' } as ToWorker);
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), EXIT_GRACE_MS)));
      const clean = await Promise.race([exited, late]);
      clearTimeout(timer);
      if (clean) return;
    }
    await this.worker.terminate();
  }

  /** The worker is gone (crashed, or terminated): every request waiting on it fails. */
  fail(err: Error): void {
    this.failure ??= err;
    for (const p of this.pending.values()) p.reject(this.failure);
    this.pending.clear();
    this.inFlight = 0;
  }
}

export class WorkerGroup {
  private slots: Array<WorkerSlot | undefined>;
  private readonly acks = new Map<number, (partition: number, id: number, through?: number) => void>();
  private nextSession = 1;

  constructor(readonly size: number) {
    this.slots = new Array<WorkerSlot | undefined>(size).fill(undefined);
  }

  /** Worker threads currently alive. */
  get liveThreads(): number {
    return this.slots.filter((s) => s !== undefined && !s.failure).length;
  }

  /** Worker `i`, started (or restarted after a crash) on demand. */
  private slot(i: number): WorkerSlot {
    let s = this.slots[i];
    if (!s || s.failure) {
      s = new WorkerSlot((session, partition, id, through) => this.acks.get(session)?.(partition, id, through));
      this.slots[i] = s;
    }
    return s;
  }

  /** Starts serving a consumer: `onAck` receives the acknowledgements its processors make in the workers. */
  openSession(spec: SessionSpec, onAck: (partition: number, id: number, through?: number) => void): PoolSession {
    const id = this.nextSession++;
    this.acks.set(id, onAck);
    return new PoolSession(id, spec, {
      run: async (i, partition, first, count) => {
        const slot = this.slot(i);
        let opened = slot.opened.get(id);
        if (!opened) {
          opened = slot.request({ t: 'open', session: id, spec });
          opened.catch(() => undefined);
          slot.opened.set(id, opened);
        }
        await opened;
        return (await slot.request({ t: 'run', session: id, partition, first, count }))!;
      },
      end: () => this.endSession(id),
    });
  }

  private async endSession(id: number): Promise<void> {
    this.acks.delete(id);
    if (this.acks.size === 0) {
      await this.terminate();
      return;
    }
    await Promise.all(
      this.slots.map(async (s) => {
        if (!s || s.failure || !s.opened.has(id)) return;
        s.opened.delete(id);
        await s.request({ t: 'close', session: id }).catch(() => undefined);
      }),
    );
  }

  /** Stops every worker thread (work still running in them is abandoned). */
  async terminate(): Promise<void> {
    const slots = this.slots;
    this.slots = new Array<WorkerSlot | undefined>(this.size).fill(undefined);
    await Promise.all(slots.map((s) => (s && !s.failure ? s.stop() : undefined)));
  }
}

interface SessionOps {
  run(worker: number, partition: number, first: number, count: number): Promise<JobResult>;
  end(): Promise<void>;
}

/** One consumer's use of a pool's workers. */
export class PoolSession {
  private ended: Promise<void> | undefined;

  constructor(
    readonly id: number,
    readonly spec: SessionSpec,
    private readonly ops: SessionOps,
  ) {}

  /** Runs events first .. first + count - 1 of `partition` on worker `worker` (opening the session there first). */
  run(worker: number, partition: number, first: number, count: number): Promise<JobResult> {
    if (this.ended) return Promise.reject(new DiasporaError(ErrorCode.CLOSED, 'thread pool session ended'));
    return this.ops.run(worker, partition, first, count);
  }

  /** Releases the workers' state for this consumer (the workers themselves when no other session uses them). */
  end(): Promise<void> {
    return (this.ended ??= this.ops.end());
  }
}
