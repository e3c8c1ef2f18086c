// A consumer's work on a pool's worker threads: which of its selector, allocator and processor can cross a thread
// boundary (module references can, closures cannot), loading module references for this thread, and the consumer's
// sessions with the pools it ran on.

import type { ConsumerTopic, EventProcessor } from '../consumer/options.js';
import type { DataAllocator, DataSelector } from '../data/selection.js';
import { DiasporaError, ErrorCode } from '../errors.js';
import type { ThreadPool } from '../thread-pool.js';
import { isModuleRef, loadModuleFunction, moduleRefSpec, type ModuleRef, type ModuleRefSpec } from './module-ref.js';
import type { SessionSpec } from './protocol.js';
import { runThreaded, type ThreadedHost, type ThreadedRunOptions } from './threaded-process.js';
import type { PoolSession } from './worker-group.js';

/** What the consumer lends the threaded loop (the acknowledgement routing is added here). */
export type ConsumerWork = Omit<ThreadedHost, 'setAckHandler'>;

/** Drivers whose events a worker thread can read itself (by opening the topic's files again). */
const THREADABLE_DRIVERS = new Set(['files']);

export class ConsumerThreads {
  private readonly selectorSpec: ModuleRefSpec | undefined;
  private readonly allocatorSpec: ModuleRefSpec | undefined;
  private readonly closures: string[] = [];
  private readonly sessions = new Map<ThreadPool, { key: string; session: PoolSession }>();
  private readonly processors = new Map<string, Promise<EventProcessor>>();
  private ackHandler: ((partition: number, id: number, through?: number) => void) | undefined;

  constructor(
    private readonly topic: Pick<ConsumerTopic, 'name' | 'driver'>,
    selector: DataSelector | ModuleRef | undefined,
    allocator: DataAllocator | ModuleRef | undefined,
  ) {
    if (isModuleRef(selector)) this.selectorSpec = moduleRefSpec(selector, 'dataSelector');
    else if (selector !== undefined) this.closures.push('dataSelector');
    if (isModuleRef(allocator)) this.allocatorSpec = moduleRefSpec(allocator, 'dataAllocator');
    else if (allocator !== undefined) this.closures.push('dataAllocator');
  }

  /** BAD_CONFIG unless everything this consumer runs on `pool` can run on its threads (no-op for inline pools). */
  check(pool: ThreadPool, processor: EventProcessor | ModuleRef | undefined): void {
    if (pool.threadCount === 0) {
      if (isModuleRef(processor)) moduleRefSpec(processor, 'processor');
      return;
    }
    const closures = [...this.closures];
    if (typeof processor === 'function') closures.push('processor');
    else if (processor !== undefined) moduleRefSpec(processor, 'processor');
    if (closures.length > 0) {
      throw new DiasporaError(
        ErrorCode.BAD_CONFIG,
        `a pool of ${pool.threadCount} thread(s) runs work named by module, not closures: give ${closures.join(', ')} as ` +
          `{ module, export? }, or use a 0-thread pool (and process(fn, { concurrency }) to overlap async processors)`,
      );
    }
    const type = this.topic.driver?.type;
    if (type === undefined || !THREADABLE_DRIVERS.has(type)) {
      throw new DiasporaError(
        ErrorCode.BAD_CONFIG,
        `topic "${this.topic.name}": threaded pools need the files driver (worker threads map its segment files); ` +
          `the "${type ?? 'unknown'}" driver's events cannot be read from another thread`,
      );
    }
  }

  /** The selector and allocator for this thread (pull(), the iterator, inline process()), from their modules. */
  async loadOnThisThread(): Promise<{ selector?: DataSelector; allocator?: DataAllocator }> {
    const [selector, allocator] = await Promise.all([
      this.selectorSpec ? loadModuleFunction<DataSelector>(this.selectorSpec, 'dataSelector') : undefined,
      this.allocatorSpec ? loadModuleFunction<DataAllocator>(this.allocatorSpec, 'dataAllocator') : undefined,
    ]);
    return { selector, allocator };
  }

  /** A processor module's function, for an inline pool (loaded once per consumer). */
  loadProcessor(ref: ModuleRef): Promise<EventProcessor> {
    const spec = moduleRefSpec(ref, 'processor');
    const key = JSON.stringify(spec);
    let p = this.processors.get(key);
    if (!p) {
      p = loadModuleFunction<EventProcessor>(spec, 'processor');
      this.processors.set(key, p);
    }
    return p;
  }

  /** Runs process() on the pool's threads. */
  async run(pool: ThreadPool, processor: ModuleRef, work: ConsumerWork, options: ThreadedRunOptions): Promise<number> {
    const group = pool.workers!;
    const spec: SessionSpec = {
      driver: { type: this.topic.driver!.type!, options: this.topic.driver!.options ?? {} },
      topic: this.topic.name,
      processor: moduleRefSpec(processor, 'processor'),
      selector: this.selectorSpec,
      allocator: this.allocatorSpec,
    };
    const key = JSON.stringify(spec);
    let entry = this.sessions.get(pool);
    if (entry && entry.key !== key) {
      // Another processor: the workers load it in a new session.
      await entry.session.end();
      entry = undefined;
    }
    if (!entry) {
      entry = { key, session: group.openSession(spec, (p, id, through) => this.ackHandler?.(p, id, through)) };
      this.sessions.set(pool, entry);
    }
    const host: ThreadedHost = { ...work, setAckHandler: (h) => (this.ackHandler = h) };
    Object.defineProperty(host, 'stopped', { get: () => work.stopped });
    return runThreaded(host, entry.session, pool.threadCount, options);
  }

  /** Ends every session (terminating pool threads no other consumer uses). */
  async close(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map((e) => e.session.end()));
  }
}
