// The code a pool's worker thread runs. For each consumer session it opens the topic itself (read-only use of the
// files driver: the partitions' segment files are memory-mapped in this thread, so events are read with no copy
// between threads), loads the session's selector, allocator and processor modules once, and then runs jobs: a
// contiguous range of one partition's events, processed in id order, one job at a time.

import { parentPort } from 'node:worker_threads';
import type { BackendRecord, PartitionBackend } from '../backend.js';
import type { DataAllocator, DataSelector } from '../data/selection.js';
import { Driver } from '../driver.js';
import { DiasporaError, ErrorCode } from '../errors.js';
import { type Event, type Acknowledger } from '../event.js';
import { makeEvent } from '../make-event.js';
import { Future } from '../future.js';
import type { TopicHandle } from '../topic.js';
import { loadModuleFunction } from './module-ref.js';
import { toWire, type FromWorker, type JobResult, type SessionSpec, type ToWorker } from './protocol.js';

type Processor = (event: Event) => unknown;

interface Session {
  driver: Driver;
  topic: TopicHandle;
  processor: Processor;
  selector: DataSelector | undefined;
  allocator: DataAllocator | undefined;
  acker: Acknowledger;
  /** Committed end last seen per partition (refreshed only when a job reaches past it). */
  ends: Map<number, number>;
}

const port = parentPort;
if (!port) throw new Error('worker-entry.ts runs only as a worker thread');

const sessions = new Map<number, Promise<Session>>();
/** The event being processed (jobs run one at a time), and the highest id its processor acknowledged. */
let current: { session: number; partition: number; id: number; acked: number } | undefined;
/** Acknowledgements of completed events are sent at most this often during a job (and at its end). */
const ACK_EVERY_MS = 5;
let lastAckPost = 0;
const post = (m: FromWorker): void => port.postMessage(m);
const isThenable = (v: unknown): v is PromiseLike<unknown> => typeof (v as { then?: unknown } | null)?.then === 'function';

async function openSession(id: number, spec: SessionSpec): Promise<Session> {
  const [processor, selector, allocator] = await Promise.all([
    loadModuleFunction<Processor>(spec.processor, 'processor'),
    spec.selector ? loadModuleFunction<DataSelector>(spec.selector, 'dataSelector') : undefined,
    spec.allocator ? loadModuleFunction<DataAllocator>(spec.allocator, 'dataAllocator') : undefined,
  ]);
  const driver = await Driver.create(spec.driver.type, spec.driver.options);
  try {
    const topic = await driver.openTopic(spec.topic);
    // The main thread writes acknowledgements once every earlier event finished; here acknowledge() only tells it,
    // after the running event completed (an event that fails takes its acknowledgement with it).
    const acker: Acknowledger = {
      acknowledge(partition: number, eventId: number): Future<void> {
        if (current && current.session === id && current.partition === partition) current.acked = Math.max(current.acked, eventId);
        else post({ t: 'ack', session: id, partition, id: eventId });
        return Future.resolved<void>(undefined);
      },
    };
    return { driver, topic, processor, selector, allocator, acker, ends: new Map() };
  } catch (err) {
    await driver.close();
    throw err;
  }
}

async function readOne(part: PartitionBackend, id: number): Promise<BackendRecord> {
  const [rec] = await part.readRange(id, 1);
  if (!rec || rec.id !== id) throw new DiasporaError(ErrorCode.OUT_OF_RANGE, `event ${id} is not readable`);
  return rec;
}

async function runJob(sessionId: number, s: Session, partition: number, first: number, count: number): Promise<JobResult> {
  const part = s.topic.backend.partition(partition);
  if (first + count > (s.ends.get(partition) ?? -1)) s.ends.set(partition, await part.refresh());
  let recs: BackendRecord[] = [];
  try {
    recs = await part.readRange(first, count);
  } catch {
    // A damaged event must not take the good ones of its range with it: read one at a time below.
  }
  const { processor, selector, allocator, acker } = s;
  const serializer = s.topic.serializer;
  let pending: { acked: number; through: number } | undefined;
  const postPending = (session: number, p: number, now = performance.now()): void => {
    if (!pending) return;
    post({ t: 'ack', session, partition: p, id: pending.acked, through: pending.through });
    pending = undefined;
    lastAckPost = now;
  };
  for (let i = 0; i < count; i++) {
    const id = first + i;
    let event: Event;
    try {
      const rec = recs[i]?.id === id ? recs[i] : await readOne(part, id);
      event = makeEvent(acker, partition, rec, serializer, selector, allocator);
    } catch (err) {
      postPending(sessionId, partition);
      return { completed: i, failedId: id, error: toWire(err) };
    }
    const running = (current = { session: sessionId, partition, id, acked: -1 });
    let stopped = false;
    try {
      const r = processor(event);
      if (isThenable(r)) {
        postPending(sessionId, partition); // the event may take long: do not hold back earlier acknowledgements
        await r;
      }
    } catch (err) {
      if ((err as Error | null)?.name !== 'StopEventProcessor') {
        postPending(sessionId, partition);
        return { completed: i, failedId: id, error: toWire(err) };
      }
      stopped = true;
    } finally {
      current = undefined;
    }
    if (running.acked >= 0) {
      pending = { acked: Math.max(pending?.acked ?? -1, running.acked), through: id };
      // One message per event would cost the main thread an offsets write each: send at most every ACK_EVERY_MS.
      const now = performance.now();
      if (now - lastAckPost >= ACK_EVERY_MS) postPending(sessionId, partition, now);
    }
    if (stopped) {
      postPending(sessionId, partition);
      return { completed: i + 1, stoppedId: id };
    }
  }
  postPending(sessionId, partition);
  return { completed: count };
}

async function closeSession(id: number): Promise<void> {
  const s = sessions.get(id);
  sessions.delete(id);
  if (!s) return;
  const opened = await s.catch(() => undefined);
  await opened?.driver.close();
}

// Jobs run one after another (in arrival order); the main thread keeps a bounded number queued per worker.
let chain: Promise<unknown> = Promise.resolve();

port.on('message', (m: ToWorker) => {
  const reply = (work: () => Promise<JobResult | undefined>): void => {
    if (!('req' in m)) return;
    const run = chain.then(work).then(
      (result) => post({ t: 'reply', req: m.req, ok: true, result }),
      (err) => post({ t: 'reply', req: m.req, ok: false, error: toWire(err) }),
    );
    chain = run;
  };
  switch (m.t) {
    case 'open': {
      const opening = openSession(m.session, m.spec);
      opening.catch(() => undefined); // reported through the reply below
      sessions.set(m.session, opening);
      reply(async () => void (await opening));
      break;
    }
    case 'run':
      reply(async () => {
        const s = sessions.get(m.session);
        if (!s) throw new DiasporaError(ErrorCode.CLOSED, `worker: no session ${m.session}`);
        return runJob(m.session, await s, m.partition, m.first, m.count);
      });
      break;
    case 'close':
      reply(async () => void (await closeSession(m.session)));
      break;
    case 'exit':
      chain = chain.then(async () => {
        await Promise.all([...sessions.keys()].map((id) => closeSession(id).catch(() => undefined)));
        port.close();
      });
      break;
  }
});
