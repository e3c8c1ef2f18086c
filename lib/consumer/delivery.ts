// Delivery: hands the partitions' events out one at a time, round robin, to pull(), the async iterator and
// process(). Buffered events are delivered synchronously (no await, closure or allocation besides the Event);
// when none is buffered, pulls are parked and served when an engine load completes or a partition grows.

import { setMaxListeners } from 'node:events';
import type { BackendRecord, BackendRun } from '../backend.js';
import type { Serializer } from '../components/serializer.js';
import type { DataAllocator, DataSelector } from '../data/selection.js';
import { EventBatch } from '../event-batch.js';
import { dataSelectionError } from '../event-errors.js';
import { Event, storedRecordOf, type Acknowledger, type StoredRecord } from '../event.js';
import { DataView } from '../data/data-view.js';
import { Future } from '../future.js';
import type { Lifecycle } from '../lifecycle.js';
import { makeEvent, selectRecordData, type RecordSelection } from '../make-event.js';
import { NO_RECORDS, RecordArrayRun } from '../record-run.js';
import type { Acknowledgements } from './acknowledgements.js';
import { engineError, isLoading, type Loading } from './backend-calls.js';
import { REFRESH_INTERVAL_MS, StepClock, nextPosition, type PartitionState } from './partition-reader.js';
import { isTrimmedError } from './trimmed.js';
import { WAIT_OVER, WakeSignal } from '../wake-signal.js';

/** Give timers and I/O a turn after this much continuous delivery. */
export const YIELD_EVERY_MS = 20;

/** Below this many partitions a step's scan costs less than the shortcut's bookkeeping. */
const QUIET_SHORTCUT_PARTITIONS = 8;

/**
 * When a partition that answered undefined may answer otherwise (if nothing outside delivery changes it): the end of
 * its refresh throttle when caught up, never when stopped or waiting for its claim; null when not known.
 */
function quietDue(st: PartitionState): number | null {
  if (st.pos < st.buffer.length || st.loading !== undefined) return null;
  if (!st.active) return st.failure === undefined ? Infinity : null;
  if (st.next >= st.stopAt) return Infinity;
  if (st.next >= st.end) return st.lastRefresh + REFRESH_INTERVAL_MS;
  return null;
}

/** What delivery turns records into events with. */
export interface EventMaking {
  readonly owner: Acknowledger;
  readonly serializer: Serializer;
  selector: DataSelector | undefined;
  allocator: DataAllocator | undefined;
}

export class Delivery<M> {
  private cursor = 0;
  private waiters: Future<Event<M> | null>[] = [];
  /** Events handed to a pull() that process() gave up on; delivered first. */
  private readonly pushedBack: Event<M>[] = [];
  private waitAbort: AbortController | undefined;
  /** A wait for commits is running (one at a time). */
  private waiting = false;
  /** Consumer-level errors (claims lost, standby claims that failed): each thrown once, by the next steps. */
  private readonly failures: unknown[] = [];
  private deliveries = 0;
  private sliceStart = performance.now();
  private readonly clock = new StepClock();
  /** Fired at each wake(): the threaded loop's waits listen to it. */
  readonly wakes = new WakeSignal();

  constructor(
    readonly parts: readonly PartitionState[],
    private readonly readBatch: number,
    private readonly untilEnd: boolean,
    private readonly lifecycle: Lifecycle,
    private readonly acks: Acknowledgements,
    private readonly making: EventMaking,
  ) {}

  /**
   * One step of delivery without waiting: an Event, `null` at the end (until 'end' reached / closed),
   * `undefined` when nothing is available now, or a Loading while an asynchronous engine answers.
   * Errors of one event (corruption, a too-small allocator buffer) are thrown after the cursor moved on.
   */
  step(): Event<M> | null | undefined | Loading {
    if (this.lifecycle.ending) return null;
    if (this.pushedBack.length > 0) return this.pushedBack.shift()!;
    if (this.failures.length > 0) throw this.takeFailure();
    const r = this.stepPosition();
    if (r !== true) return r;
    const st = this.parts[this.taken];
    return this.eventOf(this.taken, st.buffer.record(st.pos - 1));
  }

  /**
   * step() for processBatches(): the next event and the ones after it in the same partition's read-ahead, up to
   * `max`, as one batch (or null, undefined, a Loading, as step()). A batch never waits for the engine: it ends
   * where the read-ahead ends. An event whose data cannot be delivered ends the batch before it; its error is thrown
   * by the next step (after the cursor moved past it), as step() throws it for the event alone.
   */
  stepBatch(max: number): EventBatch<M> | null | undefined | Loading {
    if (this.lifecycle.ending) return null;
    const m = this.making;
    const data: Array<Uint8Array | DataView> = [];
    const events: Array<Event<M> | undefined> = [];
    if (this.pushedBack.length > 0) return this.pushedBackBatch(max, data, events);
    if (this.failures.length > 0) throw this.takeFailure();
    const first = this.stepPosition();
    if (first !== true) return first;
    // The batch is the read-ahead run from the event just taken (its last position) on, read by position.
    const st = this.parts[this.taken];
    const run = st.buffer;
    const start = st.pos - 1;
    this.pushData(st.index, run, start, data, events, true);
    let length = 1;
    while (length < max && st.pos < run.length) {
      if (!this.pushData(st.index, run, st.pos++, data, events, false)) break;
      length++;
    }
    return new EventBatch<M>(m.owner, st.index, run, start, length, data, events, m.serializer);
  }

  /**
   * stepBatch() when events a given-up pull received are waiting: those of the first one's partition, then what
   * follows them in that partition's read-ahead.
   */
  private pushedBackBatch(max: number, data: Array<Uint8Array | DataView>, events: Array<Event<M> | undefined>): EventBatch<M> {
    const m = this.making;
    const back = this.pushedBack;
    const partition = back[0].partition;
    let n = 1;
    while (n < back.length && n < max && back[n].partition === partition) n++;
    const records: StoredRecord[] = [];
    for (const ev of back.splice(0, n)) {
      records.push(storedRecordOf(ev as Event<unknown>));
      data.push(ev.data);
      events.push(ev);
    }
    const st = this.parts.find((p) => p.index === partition);
    if (st !== undefined && st.pos < st.buffer.length && st.buffer.id(st.pos) === records[n - 1].id + 1) {
      while (records.length < max && st.pos < st.buffer.length) {
        const k = st.pos++;
        if (!this.pushData(st.index, st.buffer, k, data, events, false)) break;
        records.push(st.buffer.record(k));
      }
    }
    return new EventBatch<M>(m.owner, partition, new RecordArrayRun(records as BackendRecord[]), 0, records.length, data, events, m.serializer);
  }

  /**
   * Adds event `k` of `run` to a batch being made, its data selected as step() selects it (the selector and
   * allocator run per event; the batch keeps the DataView, or without them the bytes themselves; no Event is made).
   * An event whose data cannot be delivered is thrown when `first`, else kept for the next step (false: the batch ends).
   */
  private pushData(
    partition: number, run: BackendRun, k: number, data: Array<Uint8Array | DataView>, events: Array<Event<M> | undefined>, first: boolean,
  ): boolean {
    const m = this.making;
    try {
      if (m.selector !== undefined || m.allocator !== undefined) {
        const sel = this.selection;
        const rec = run.record(k);
        selectRecordData(partition, rec, m.serializer, m.selector, m.allocator, sel);
        const { data: selected, parsed } = sel;
        data.push(selected);
        // A value the selection parsed in full is kept by an Event made now (it is not parsed twice); else none is made.
        events.push(parsed === undefined ? undefined : new Event<M>(m.owner, partition, rec, parsed as M, selected, m.serializer));
      } else {
        try {
          data.push(run.data(k));
        } catch (err) {
          throw dataSelectionError(partition, run.id(k), err);
        }
        events.push(undefined);
      }
    } catch (err) {
      if (first) throw err;
      this.failures.push(err);
      return false;
    }
    return true;
  }

  /** Where pushData() has a record's selection written (reused: nothing is allocated per event for it). */
  private readonly selection: RecordSelection = { data: DataView.EMPTY, parsed: undefined };

  /** The partition index (into parts) of the event stepPosition() moved to last. */
  private taken = 0;

  /**
   * Moves to the event step() delivers next: true when there is one (partition `taken`, at its read-ahead's last
   * position; the next step starts after it), else as step() (null, undefined or a Loading).
   */
  private stepPosition(): true | null | undefined | Loading {
    const parts = this.parts;
    const n = parts.length;
    this.clock.reset();
    const hot = this.hot;
    if (hot >= 0) {
      // Every other partition was quiet until quietUntil (see quietDue): a scan would pass them all and come back here.
      if (this.clock.now() < this.quietUntil) {
        if (this.read(hot) === true) return this.take(hot);
      }
      this.hot = -1; // the scan below looks at every partition (reading `hot` again is harmless: see read)
    }
    let loading: Loading | undefined;
    let allDone = this.untilEnd;
    // Whether each partition passed so far is quiet, and until when.
    let quiet = n >= QUIET_SHORTCUT_PARTITIONS;
    let quietUntil = Infinity;
    for (let i = 0; i < n; i++) {
      const idx = (this.cursor + i) % n;
      const st = parts[idx];
      const r = this.read(idx);
      if (r === undefined) {
        if (allDone && !(st.active && st.pos >= st.buffer.length && st.next >= st.stopAt)) allDone = false;
        if (quiet) {
          const due = quietDue(st);
          if (due === null) quiet = false;
          else if (due < quietUntil) quietUntil = due;
        }
        continue;
      }
      if (isLoading(r)) {
        loading ??= r;
        allDone = false;
        quiet = false;
        continue;
      }
      if (quiet && i === n - 1) {
        // All the others were passed, quiet: until one of them is due, the next steps go straight to this one. What
        // could make one of them active sooner runs later (a claim, a wait's end: microtasks and wake()), so the
        // shortcut ends with the current synchronous run of deliveries.
        this.hot = idx;
        this.quietUntil = quietUntil;
        queueMicrotask(this.forgetQuiet);
      }
      return this.take(idx);
    }
    if (loading) return loading;
    return allDone ? null : undefined;
  }

  /**
   * The quiet-partition shortcut of step(): a topic of many partitions of which one has events would otherwise look
   * at every other one per event delivered (64 partitions, one busy: 6x slower than 1 partition).
   */
  private hot = -1;
  private quietUntil = 0;
  private readonly forgetQuiet = (): void => {
    this.hot = -1;
  };

  /**
   * Moves partition `idx` to its next event (see nextPosition). Reading a partition that just answered undefined or
   * a Loading again in the same step answers the same, with no effect (its read-ahead is empty, its refresh is
   * throttled by the step's clock, its load is pending). A read error is thrown after the cursor moved past the event.
   */
  private read(idx: number): true | undefined | Loading {
    const st = this.parts[idx];
    try {
      return nextPosition(st, this.readBatch, this.clock);
    } catch (err) {
      // A read error (e.g. corruption) is reported for this partition; skip past it so the consumer is not stuck.
      this.cursor = (idx + 1) % this.parts.length;
      this.hot = -1;
      st.buffer = NO_RECORDS;
      st.pos = 0;
      // retention: a removed position is not skipped one id at a time (onTrimmed decides).
      if (!isTrimmedError(err)) st.next += 1;
      throw err;
    }
  }

  /** An event was taken from partition `idx`: the next step starts at the partition after it. */
  private take(idx: number): true {
    this.cursor = (idx + 1) % this.parts.length;
    this.taken = idx;
    return true;
  }

  /** The event of `rec`, read from partition `idx`. */
  private eventOf(idx: number, rec: BackendRecord): Event<M> {
    const st = this.parts[idx];
    const m = this.making;
    return makeEvent<M>(m.owner, st.index, rec, m.serializer, m.selector, m.allocator);
  }

  /** The next event, waiting for one if needed (see Consumer.pull). */
  pull(): Future<Event<M> | null> {
    if (this.waiters.length === 0) {
      if (this.yieldDue()) {
        // A caller pulling a long backlog in a loop gets its events from resolved futures (microtasks only):
        // now and then, deliver after a macrotask so timers and I/O (claim refreshes, acknowledgement writes) run.
        const f = new Future<Event<M> | null>();
        this.waiters.push(f);
        setImmediate(() => {
          this.acks.persist();
          this.serveWaiters();
        });
        return f;
      }
      try {
        const r = this.step();
        if (r instanceof Event) return Future.resolved<Event<M> | null>(r);
        // Nothing more (null) or nothing now (it waits, maybe until the caller's timeout): the acknowledgements made
        // so far are written now, as the loops do when they stop or wait (a program may exit right after a null).
        this.acks.persist();
        if (r === null) return Future.resolved<Event<M> | null>(null);
      } catch (err) {
        this.acks.persist();
        return Future.rejected(err);
      }
    }
    const f = new Future<Event<M> | null>();
    this.waiters.push(f);
    this.serveWaiters();
    return f;
  }

  /** Hands available events to parked pull() futures, and waits for commits when none are available. */
  private serveWaiters(): void {
    while (this.waiters.length > 0) {
      let r: ReturnType<Delivery<M>['step']>;
      try {
        r = this.step();
      } catch (err) {
        this.waiters.shift()!.reject(err);
        continue;
      }
      if (r === undefined) {
        this.waitForCommits();
        return;
      }
      if (isLoading(r)) {
        r.then(
          () => this.serveWaiters(),
          (err: unknown) => {
            this.waiters.shift()?.reject(err);
            this.serveWaiters();
          },
        );
        return;
      }
      this.waiters.shift()!.resolve(r);
    }
  }

  /** Sleeps until any target partition gets a commit (or the claim of a standby partition arrives). */
  private waitForCommits(): void {
    if (this.waiting) return;
    this.waiting = true;
    const ac = new AbortController();
    // One abort listener per partition waited on: above 10, Node warned of a leak (MaxListenersExceededWarning) on
    // every wait of a consumer of a topic with more partitions. They are removed when the wait ends.
    setMaxListeners(this.parts.length + 1, ac.signal);
    this.waitAbort = ac;
    const waits = this.parts.filter((st) => st.active).map((st) =>
      st.backend.waitForAppend(st.end, 60_000, ac.signal).then((grew) => {
        if (grew) st.lastRefresh = 0;
        return grew;
      }),
    );
    if (waits.length === 0) waits.push(new Promise<boolean>((resolve) => ac.signal.addEventListener('abort', () => resolve(false), { once: true })));
    const done = (): void => {
      ac.abort(WAIT_OVER);
      this.waiting = false;
      this.waitAbort = undefined;
    };
    Promise.race(waits).then(
      () => {
        done();
        this.hot = -1;
        for (const st of this.parts) st.lastRefresh = 0;
        if (!this.lifecycle.ending) this.serveWaiters();
      },
      (err: unknown) => {
        done();
        this.waiters.shift()?.reject(engineError(err));
        if (!this.lifecycle.ending) this.serveWaiters();
      },
    );
  }

  /** Interrupts a wait so that state changes (a standby claim, a lost claim, close) are noticed. */
  wake(): void {
    this.hot = -1;
    this.wakes.fire();
    this.waitAbort?.abort(WAIT_OVER);
    if (!this.waiting && this.waiters.length > 0) this.serveWaiters();
  }

  /** Reports a consumer-level error to the next delivery (and wakes a waiting one). */
  fail(err: unknown): void {
    this.failures.push(err);
    this.wake();
  }

  /** The oldest pending consumer-level error, if any, taken once. */
  takeFailure(): unknown {
    return this.failures.shift();
  }

  /** close(): pending pulls resolve to null and waits end. */
  stop(): void {
    this.waitAbort?.abort(WAIT_OVER);
    for (const w of this.waiters.splice(0)) w.resolve(null);
    this.wake();
  }

  /** Keeps an event a given-up pull received: it is delivered first. */
  pushBack(ev: Event<M>): void {
    this.pushedBack.push(ev);
  }

  /** Takes back the events handed back so far (the threaded loop reads them again from the engine). */
  takePushedBack(): Event<M>[] {
    return this.pushedBack.splice(0);
  }

  /**
   * A pull given up on (process() timed out or stopped) is withdrawn; if it completed meanwhile its event is kept
   * for the next delivery.
   */
  async withdraw(f: Future<Event<M> | null>): Promise<void> {
    const i = this.waiters.indexOf(f);
    if (i >= 0) {
      this.waiters.splice(i, 1);
      f.resolve(null);
      return;
    }
    const late = await f.wait(0).catch(() => undefined);
    if (late) this.pushedBack.push(late);
  }

  /**
   * True about every YIELD_EVERY_MS of continuous synchronous delivery (checked every 256 events, so the clock is not
   * read per event): time to let the event loop turn.
   */
  yieldDue(): boolean {
    if ((++this.deliveries & 255) !== 0) return false;
    const now = performance.now();
    if (now - this.sliceStart < YIELD_EVERY_MS) return false;
    this.sliceStart = now;
    return true;
  }
}
