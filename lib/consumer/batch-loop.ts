// processBatches() on this thread: hands the processor batches of consecutive events of one partition (what the
// read-ahead holds, up to the consumer's batch size) until it stops, `maxEvents` were processed, `timeoutMs` passed
// without an event, the end was reached or the consumer closed.

import { StopEventProcessor } from '../errors.js';
import type { EventBatch } from '../event-batch.js';
import type { Lifecycle } from '../lifecycle.js';
import type { Acknowledgements } from './acknowledgements.js';
import { isLoading } from './backend-calls.js';
import { YIELD_EVERY_MS, type Delivery } from './delivery.js';
import { waitNext } from './process-loop.js';
import { WakeSignal } from '../wake-signal.js';

export type BatchProcessor<M> = (batch: EventBatch<M>) => void | Promise<void>;

export async function batchLoop<M>(
  delivery: Delivery<M>, acks: Acknowledgements, lifecycle: Lifecycle, processor: BatchProcessor<M>,
  limits: { timeoutMs: number; maxEvents: number },
): Promise<number> {
  const { timeoutMs, maxEvents } = limits;
  let count = 0;
  // Nothing interrupts a wait here but close() (which ends it with null): one processor runs at a time.
  const never = new WakeSignal(true);
  let sliceStart = performance.now();
  try {
    while (count < maxEvents && !lifecycle.ending) {
      const batch = delivery.stepBatch(maxEvents - count);
      if (batch === null) break;
      if (batch === undefined || isLoading(batch)) {
        acks.persist();
        // The event that ends the wait is handed back, and the next step delivers it with what follows it.
        const got = await waitNext(delivery, timeoutMs, never);
        if (got === undefined || got === null) break;
        delivery.pushBack(got);
        sliceStart = performance.now();
        continue;
      }
      count += batch.length;
      try {
        const r = processor(batch);
        if (r && typeof (r as Promise<void>).then === 'function') await r;
      } catch (err) {
        if (err instanceof StopEventProcessor) break;
        throw err;
      }
      if (performance.now() - sliceStart > YIELD_EVERY_MS) {
        // Timers and I/O (claim refreshes, acknowledgement writes) get a turn during a long backlog.
        acks.persist();
        await new Promise<void>((r) => setImmediate(r));
        sliceStart = performance.now();
      }
    }
  } finally {
    acks.persist();
  }
  return count;
}
