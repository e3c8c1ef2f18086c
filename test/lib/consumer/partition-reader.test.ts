// A partition whose claim is lost while an asynchronous engine (nats) answers: the late answer neither refills its
// read-ahead nor reactivates it. An engine whose answers the test releases by hand makes the order certain.
import test from 'ava';
import type { BackendRecord, ClaimHandle, PartitionBackend } from '../../../lib/backend.js';
import { StepClock, deactivate, newPartitionState, nextPosition, positionPartition } from '../../../lib/consumer/partition-reader.js';

/**
 * An engine of 10 events answering asynchronously; while `hold` is on, its refresh() and readRange() answers wait for
 * `release()`, and `parked` resolves at the first answer held back.
 */
function slowEngine() {
  const pending: Array<() => void> = [];
  let parked!: () => void;
  const engine = {
    hold: false,
    parked: new Promise<void>((r) => (parked = r)),
    release(): void {
      engine.hold = false;
      for (const f of pending.splice(0)) f();
    },
    backend: undefined as unknown as PartitionBackend,
  };
  const later = <T>(value: T): Promise<T> => {
    if (!engine.hold) return Promise.resolve(value);
    parked();
    return new Promise<T>((resolve) => pending.push(() => resolve(value)));
  };
  const record = (id: number): BackendRecord => ({ id }) as unknown as BackendRecord;
  engine.backend = {
    startId: () => later(0),
    refresh: () => later(10),
    readRange: (from: number, max: number) => later(Array.from({ length: Math.min(max, 10 - from) }, (_, i) => record(from + i))),
    waitForAppend: async () => false,
  } as unknown as PartitionBackend;
  return engine;
}

const claim = (): ClaimHandle => ({ partition: 0, release: () => {} });
const trimmed = { consumerName: 'c', onTrimmed: 'error' as const };

test('a read that completes after the claim was lost does not refill the read-ahead', async (t) => {
  const engine = slowEngine();
  const st = newPartitionState(0, engine.backend, trimmed);
  st.claim = claim();
  await positionPartition(st, 'c', null, 'committed', false);
  t.true(st.active);
  engine.hold = true;
  const loading = nextPosition(st, 4, new StepClock());
  t.true(loading instanceof Promise);
  deactivate(st);
  engine.release();
  await loading;
  t.is(st.buffer.length, 0);
  t.is(nextPosition(st, 4, new StepClock()), undefined);
});

test('a partition whose claim is lost while it is being positioned stays stopped', async (t) => {
  const engine = slowEngine();
  const st = newPartitionState(0, engine.backend, trimmed);
  st.claim = claim();
  engine.hold = true;
  const positioned = positionPartition(st, 'c', null, 'committed', false);
  await engine.parked;
  deactivate(st);
  engine.release();
  await positioned;
  t.false(st.active);
  t.is(nextPosition(st, 4, new StepClock()), undefined);
});
