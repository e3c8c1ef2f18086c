// process() on this thread: runs a processor on each delivered event (up to `concurrency` at once) until it stops,
// `maxEvents` were processed, `timeoutMs` passed without an event, the end was reached or the consumer closed.

import { StopEventProcessor } from '../errors.js';
import type { Event } from '../event.js';
import type { Lifecycle } from '../lifecycle.js';
import type { Acknowledgements } from './acknowledgements.js';
import { isLoading, type Loading } from './backend-calls.js';
import { YIELD_EVERY_MS, type Delivery } from './delivery.js';
import type { EventProcessor } from './options.js';
import { WakeSignal } from '../wake-signal.js';

export interface LoopLimits {
  timeoutMs: number;
  maxEvents: number;
  concurrency: number;
}

export async function processLoop<M>(
  delivery: Delivery<M>, acks: Acknowledgements, lifecycle: Lifecycle, processor: EventProcessor<M>, limits: LoopLimits,
): Promise<number> {
  const { timeoutMs, maxEvents, concurrency } = limits;
  let count = 0;
  let stop = false;
  let failure: unknown;
  const inFlight = new Set<Promise<void>>();
  // Interrupts a wait for the next event when a processor running concurrently fails or stops the loop.
  const stopped = new WakeSignal(true);
  const onError = (err: unknown): void => {
    stop = true;
    stopped.fire();
    if (!(err instanceof StopEventProcessor) && failure === undefined) failure = err;
  };
  let sliceStart = performance.now();
  while (!stop && count < maxEvents && !lifecycle.ending) {
    let ev: Event<M> | null | undefined | Loading;
    try {
      ev = delivery.step();
    } catch (err) {
      onError(err);
      break;
    }
    if (ev === null) break;
    if (ev === undefined || isLoading(ev)) {
      acks.persist();
      const got = await waitNext(delivery, timeoutMs, stopped);
      if (got === undefined || got === null) break;
      ev = got;
      sliceStart = performance.now();
    }
    count++;
    if (concurrency === 1) {
      try {
        const r = processor(ev);
        if (r && typeof (r as Promise<void>).then === 'function') await r;
      } catch (err) {
        onError(err);
      }
    } else {
      while (inFlight.size >= concurrency) await Promise.race(inFlight);
      if (stop) break;
      let job: Promise<void>;
      try {
        job = Promise.resolve(processor(ev)).then(
          () => undefined,
          (err) => onError(err),
        );
      } catch (err) {
        onError(err);
        continue;
      }
      inFlight.add(job);
      void job.then(() => inFlight.delete(job));
    }
    if ((count & 1023) === 0) {
      acks.persist();
      if (performance.now() - sliceStart > YIELD_EVERY_MS) {
        await new Promise<void>((r) => setImmediate(r));
        sliceStart = performance.now();
      }
    }
  }
  await Promise.all(inFlight);
  acks.persist();
  if (failure !== undefined) throw failure;
  return count;
}

/** Waits for the next event: up to `timeoutMs` (negative: forever) or until `stop` fires. */
export async function waitNext<M>(delivery: Delivery<M>, timeoutMs: number, stop: WakeSignal): Promise<Event<M> | null | undefined> {
  const f = delivery.pull();
  const got = await WakeSignal.race([f.wait(timeoutMs)], [stop]);
  if (got !== undefined) return got;
  await delivery.withdraw(f);
  return undefined;
}
