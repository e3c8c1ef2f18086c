// One partition = one JetStream stream with one subject; event id = stream sequence - 1 (dense).
//
// Appends. A batch is published as pipelined messages: the first expects the stream's last sequence to be the
// known end of a complete batch, every next one expects the previous message's id (Nats-Expected-Last-Msg-Id).
// So a batch lands contiguously or its first message is refused (another writer got there first): the writer
// then waits until the stream ends on a complete batch and tries again. Each message has a Nats-Msg-Id, so a
// publish retried after a timeout or a leader change is de-duplicated by the server, never stored twice.
// Sequential reads stream from an ordered consumer; other reads use direct gets (any replica), falling back to the
// stream leader when a replica is behind.
// Waiting for appends is a headers-only push consumer starting at the awaited sequence: the server pushes the
// first new message's headers, nothing polls.

import { randomBytes } from 'node:crypto';
import { createInbox } from '@nats-io/nats-core';
import { AckPolicy, DeliverPolicy, type Consumer, type PubAck, type StoredMsg, type StreamInfo } from '@nats-io/jetstream';
import type { BackendAppendEvent, BackendPartitionStats, BackendRecord, PartitionBackend } from '../../backend.js';
import { DiasporaError, ErrorCode } from '../../errors.js';
import type { NatsContext } from './nats-context.js';
import { decodeEnvelope, encodeEnvelope, ENVELOPE_HEADER } from './nats-envelope.js';
import { apiCode, isTransient, JsCode, natsError, sleep, withRetry } from './nats-errors.js';
import { timeoutUnlessForever } from '../../timer-limit.js';

/** Headers JetStream adds to a message (ids, expectations) plus slack, kept out of the payload budget. */
const HEADER_ALLOWANCE = 512;
/** A stream ending inside another writer's batch for this long (no progress) means that writer died mid-batch. */
const TORN_BATCH_MS = 2_000;
/** Direct gets in flight per readRange. */
const READ_PIPELINE = 256;
/** Bytes in flight per publish window or readRange. */
const WINDOW_BYTES = 8 * 1024 * 1024;

const NS_PER_MS = 1_000_000;
/** Heartbeat of the consumer behind waitForAppend (a lost server is noticed after three missed beats). */
const WAIT_HEARTBEAT_MS = 1_000;

interface Tail {
  /** Last stream sequence (0 = empty). */
  seq: number;
  /** The last message ends its batch. */
  complete: boolean;
}

function isoToMs(iso: string | undefined): number | null {
  if (!iso || iso.startsWith('0001-')) return null;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : ms;
}

export class NatsPartition implements PartitionBackend {
  /** Appends of this process run one after the other (the batch protocol needs one writer at a time per client). */
  private appendChain: Promise<unknown> = Promise.resolve();
  /** Where our next batch goes: the last sequence, known to end a complete batch; undefined = ask the server. */
  private tail: number | undefined;
  /** Highest end seen (own appends, refreshes): lets waitForAppend answer without a round trip. */
  private seenEnd = 0;
  /** Running estimate of a message's size, to bound the bytes a readRange asks for at once. */
  private avgMessageBytes: number | undefined;
  /** Ordered consumer positioned for the next sequential readRange. */
  private cursor: { consumer: Consumer; next: number } | undefined;
  private cursorBusy = false;

  constructor(
    private readonly ctx: NatsContext,
    readonly stream: string,
    readonly subject: string,
    private readonly where: string,
  ) {}

  private info(): Promise<StreamInfo> {
    return withRetry(this.ctx.options.retryMs, `${this.where}: stream info`, async () => {
      try {
        return await this.ctx.jsm.streams.info(this.stream);
      } catch (err) {
        if (apiCode(err) === JsCode.STREAM_NOT_FOUND) {
          throw new DiasporaError(ErrorCode.TOPIC_NOT_FOUND, `${this.where}: stream ${this.stream} does not exist (topic deleted?)`, { cause: err });
        }
        throw err;
      }
    });
  }

  // ---- appends ----------------------------------------------------------------------------------------------

  append(events: readonly BackendAppendEvent[]): Promise<number> {
    if (events.length === 0) return this.refresh();
    let payloads: Uint8Array[];
    try {
      payloads = this.encode(events);
    } catch (err) {
      return Promise.reject(err);
    }
    const run = this.appendChain.then(() => this.appendBatch(payloads));
    this.appendChain = run.catch(() => undefined);
    return run;
  }

  /** Encodes a batch; an oversized event fails it before anything is sent. */
  private encode(events: readonly BackendAppendEvent[]): Uint8Array[] {
    const limit = this.ctx.maxPayload - HEADER_ALLOWANCE;
    return events.map((e, i) => {
      const pieces = e.data === undefined ? [] : e.data instanceof Uint8Array ? [e.data] : e.data;
      const p = encodeEnvelope(e.metadata, pieces, events.length - 1 - i);
      if (p.byteLength > limit) {
        throw new DiasporaError(
          ErrorCode.EVENT_TOO_LARGE,
          `${this.where}: event of ${p.byteLength - ENVELOPE_HEADER} bytes exceeds what the NATS servers accept (max_payload ${this.ctx.maxPayload} minus ${HEADER_ALLOWANCE + ENVELOPE_HEADER} bytes of headers)`,
        );
      }
      return p;
    });
  }

  private async appendBatch(payloads: Uint8Array[]): Promise<number> {
    restart: for (;;) {
      const tail = this.tail ?? (await this.completeTail());
      const batchId = randomBytes(9).toString('base64url');
      const msgId = (i: number): string => `${batchId}.${i}`;
      const publish = (i: number): Promise<PubAck> =>
        this.ctx.js.publish(this.subject, payloads[i], {
          msgID: msgId(i),
          expect: i === 0 ? { lastSequence: tail } : { lastMsgID: msgId(i - 1) },
          timeout: this.ctx.options.requestTimeoutMs,
        });
      const acks: PubAck[] = [];
      // Pipelined in windows of bounded bytes, so large events do not all wait in the socket at once.
      for (let from = 0; from < payloads.length; ) {
        let to = from;
        let bytes = 0;
        while (to < payloads.length && (to === from || bytes + payloads[to].byteLength <= WINDOW_BYTES)) bytes += payloads[to++].byteLength;
        const settled = await Promise.allSettled(Array.from({ length: to - from }, (_, k) => publish(from + k)));
        let failedAt = -1;
        for (let k = 0; k < settled.length; k++) {
          const r = settled[k];
          if (r.status === 'fulfilled') acks[from + k] = r.value;
          else {
            failedAt = from + k;
            break;
          }
        }
        if (failedAt === 0 && apiCode((settled[0] as PromiseRejectedResult).reason) === JsCode.WRONG_LAST_SEQUENCE) {
          // Another writer appended first; nothing of this batch was stored (every next message chains on this one).
          this.tail = undefined;
          continue restart;
        }
        if (failedAt >= 0) {
          // A transient failure (or a message refused because the one before it had not landed yet): finish the
          // window one message at a time. Retried ids are de-duplicated by the server, never stored twice.
          try {
            for (let i = failedAt; i < to; i++) acks[i] = await this.publishWithRetry(() => publish(i), i === 0);
          } catch (err) {
            this.tail = undefined;
            if (err === CONFLICT) continue restart;
            throw err;
          }
        }
        from = to;
      }
      for (let i = 1; i < acks.length; i++) {
        if (acks[i].seq !== acks[0].seq + i) {
          this.tail = undefined;
          throw new DiasporaError(ErrorCode.GENERIC, `${this.where}: batch interleaved with another writer at sequence ${acks[i].seq}`);
        }
      }
      const last = acks[acks.length - 1].seq;
      this.tail = last;
      this.seenEnd = Math.max(this.seenEnd, last);
      return acks[0].seq - 1;
    }
  }

  private async publishWithRetry(publish: () => Promise<PubAck>, first: boolean): Promise<PubAck> {
    const deadline = Date.now() + this.ctx.options.retryMs;
    let delay = 50;
    for (;;) {
      try {
        return await publish();
      } catch (err) {
        const code = apiCode(err);
        if (first && code === JsCode.WRONG_LAST_SEQUENCE) throw CONFLICT;
        if (code === JsCode.WRONG_LAST_MSG_ID) {
          throw new DiasporaError(ErrorCode.GENERIC, `${this.where}: batch interrupted by another writer (its start is stored, the rest is not)`, { cause: err });
        }
        if (!isTransient(err) || Date.now() + delay > deadline) throw natsError(err, `${this.where}: publish`);
        await sleep(delay);
        delay = Math.min(delay * 2, 1000);
      }
    }
  }

  /** The stream's last sequence once it ends on a complete batch (or a batch whose writer stopped progressing). */
  private async completeTail(): Promise<number> {
    let last: Tail = { seq: -1, complete: false };
    let since = Date.now();
    for (;;) {
      const t = await this.readTail();
      if (t.complete) return t.seq;
      if (t.seq !== last.seq) since = Date.now();
      else if (Date.now() - since > TORN_BATCH_MS) return t.seq;
      last = t;
      await this.waitForAppend(t.seq, TORN_BATCH_MS);
    }
  }

  private async readTail(): Promise<Tail> {
    const info = await this.info();
    const seq = info.state.last_seq;
    if (seq === 0 || info.state.messages === 0) return { seq, complete: true };
    const m = await this.getMessage(seq);
    if (!m) return { seq, complete: true };
    return { seq, complete: decodeEnvelope(m.data, `${this.where} event ${seq - 1}`).remaining === 0 };
  }

  flush(): void {
    // A resolved append is stored by the servers (and by a majority of replicas when replicas > 1).
  }

  // ---- reads ------------------------------------------------------------------------------------------------

  async refresh(): Promise<number> {
    const info = await this.info();
    this.seenEnd = Math.max(this.seenEnd, info.state.last_seq);
    return info.state.last_seq;
  }

  async startId(): Promise<number> {
    const s = (await this.info()).state;
    return s.messages === 0 ? s.last_seq : s.first_seq - 1;
  }

  /** One message by sequence: a direct get (any replica), then the leader if the replica had not caught up. */
  private async getMessage(seq: number): Promise<StoredMsg | null> {
    return withRetry(this.ctx.options.retryMs, `${this.where}: read sequence ${seq}`, async () => {
      const m = await this.ctx.jsm.direct.getMessage(this.stream, { seq });
      if (m || this.ctx.options.replicas === 1) return m;
      return this.ctx.jsm.streams.getMessage(this.stream, { seq });
    });
  }

  async readRange(from: number, max: number): Promise<BackendRecord[]> {
    // Fewer than `max` is fine (the consumer asks again): read about WINDOW_BYTES per call.
    if (this.avgMessageBytes === undefined) {
      const st = (await this.info()).state;
      this.avgMessageBytes = st.messages > 0 ? Math.max(64, st.bytes / st.messages) : 64;
    }
    const n = Math.max(1, Math.min(max, READ_PIPELINE, Math.floor(WINDOW_BYTES / this.avgMessageBytes)));
    const out: BackendRecord[] = [];
    const add = (seq: number, payload: Uint8Array, time: number): void => {
      const id = seq - 1;
      const env = decodeEnvelope(payload, `${this.where} event ${id}`);
      const data = env.data;
      this.avgMessageBytes = Math.max(64, this.avgMessageBytes! * 0.9 + payload.byteLength * 0.1);
      out.push({ id, timestamp: time, metadata: env.metadata, dataSize: data.byteLength, data: () => data });
    };
    // Sequential reads stream from an ordered consumer (one request per batch); anything it did not deliver
    // (a random access, a lost server) is read message by message with direct gets.
    if (!this.cursorBusy) {
      // One ordered read at a time (several consumers of this process may share the partition).
      // A fetch that does not answer in time (its server lost mid-request) is abandoned, never awaited forever.
      this.cursorBusy = true;
      let live = true;
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          this.readOrdered(from, n, (seq, payload, time) => live && add(seq, payload, time)),
          new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('ordered read timed out')), this.ctx.options.requestTimeoutMs * 2))),
        ]);
      } catch {
        this.cursor = undefined;
      } finally {
        live = false;
        clearTimeout(timer);
        this.cursorBusy = false;
      }
    }
    const rest = from + out.length;
    const left = n - out.length;
    if (left > 0) {
      const msgs = await Promise.all(Array.from({ length: left }, (_, i) => this.getMessage(rest + i + 1)));
      for (let i = 0; i < left; i++) {
        const m = msgs[i];
        if (!m || m.seq !== rest + i + 1) break; // past the end (or removed): the range stops here
        add(m.seq, m.data, m.time.getTime());
      }
    }
    return out;
  }

  private async readOrdered(from: number, n: number, add: (seq: number, payload: Uint8Array, time: number) => void): Promise<void> {
    if (!this.cursor || this.cursor.next !== from + 1) {
      this.cursor = { consumer: await this.ctx.js.consumers.get(this.stream, { opt_start_seq: from + 1 }), next: from + 1 };
    }
    const cursor = this.cursor;
    const batch = await cursor.consumer.fetch({ max_messages: n, expires: this.ctx.options.requestTimeoutMs });
    let count = 0;
    for await (const m of batch) {
      if (m.seq !== cursor.next) throw new Error('ordered read out of sequence'); // gap: let direct gets decide
      cursor.next++;
      add(m.seq, m.data, m.time.getTime());
      if (++count >= n) break;
    }
  }

  async findByTime(ms: number): Promise<number> {
    // The server positions a consumer at the first message stored at or after `ms`; its info says where.
    return withRetry(this.ctx.options.retryMs, `${this.where}: find by time`, async () => {
      const ci = await this.ctx.jsm.consumers.add(this.stream, {
        deliver_policy: DeliverPolicy.StartTime,
        opt_start_time: new Date(ms).toISOString(),
        ack_policy: AckPolicy.None,
        inactive_threshold: 5_000 * NS_PER_MS,
        mem_storage: true,
        num_replicas: 1,
      });
      void this.ctx.jsm.consumers.delete(this.stream, ci.name).catch(() => undefined);
      return ci.delivered.stream_seq;
    });
  }

  waitForAppend(knownEnd: number, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (this.seenEnd > knownEnd) return Promise.resolve(true);
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise<boolean>((resolve, reject) => {
      const inbox = createInbox();
      const sub = this.ctx.nc.subscribe(inbox);
      let consumerName: string | undefined;
      let finished = false;
      let lastBeat = Date.now();
      const dropConsumer = (): void => {
        if (consumerName) void this.ctx.jsm.consumers.delete(this.stream, consumerName).catch(() => undefined);
        consumerName = undefined;
      };
      const finish = (grew: boolean | Error): void => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        clearInterval(watchdog);
        signal?.removeEventListener('abort', onAbort);
        sub.unsubscribe();
        dropConsumer();
        if (grew instanceof Error) reject(grew);
        else resolve(grew);
      };
      const onAbort = (): void => finish(false);
      const timer = timeoutUnlessForever(() => finish(false), Math.max(0, timeoutMs));
      timer?.unref?.();
      // The consumer lives on one server: if that server is lost its heartbeats stop, and it is made again.
      const watchdog = setInterval(() => {
        if (finished || !consumerName || Date.now() - lastBeat < 3 * WAIT_HEARTBEAT_MS) return;
        dropConsumer();
        lastBeat = Date.now();
        void create();
      }, WAIT_HEARTBEAT_MS);
      watchdog.unref?.();
      signal?.addEventListener('abort', onAbort, { once: true });
      void (async () => {
        for await (const m of sub) {
          lastBeat = Date.now();
          // An event's reply subject: $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<time>.<pending>;
          // idle heartbeats have none.
          if (!m.reply?.startsWith('$JS.ACK.')) continue;
          const seq = Number(m.reply.split('.')[5]);
          if (Number.isFinite(seq)) this.seenEnd = Math.max(this.seenEnd, seq);
          finish(true);
        }
        finish(false); // subscription closed (connection closing)
      })();
      const create = async (): Promise<void> => {
        let delay = 50;
        while (!finished) {
          try {
            const ci = await this.ctx.jsm.consumers.add(this.stream, {
              deliver_subject: inbox,
              deliver_policy: DeliverPolicy.StartSequence,
              opt_start_seq: knownEnd + 1,
              ack_policy: AckPolicy.None,
              headers_only: true,
              idle_heartbeat: WAIT_HEARTBEAT_MS * NS_PER_MS,
              inactive_threshold: 5_000 * NS_PER_MS,
              mem_storage: true,
              num_replicas: 1,
            });
            lastBeat = Date.now();
            consumerName = ci.name;
            if (finished) dropConsumer();
            return;
          } catch (err) {
            if (!isTransient(err)) return finish(natsError(err, `${this.where}: wait for events`));
            await sleep(delay, signal);
            delay = Math.min(delay * 2, 1000);
          }
        }
      };
      void create();
    });
  }

  async stats(): Promise<BackendPartitionStats> {
    const s = (await this.info()).state;
    const events = s.messages;
    return {
      firstId: events === 0 ? s.last_seq : s.first_seq - 1,
      endId: s.last_seq,
      events,
      // The server reports one stored size (envelope, metadata and data together): it is counted as data.
      metadataBytes: 0,
      dataBytes: s.bytes,
      segments: 1,
      firstTimestamp: events === 0 ? null : isoToMs(s.first_ts),
      lastTimestamp: events === 0 ? null : isoToMs(s.last_ts),
    };
  }
}

const CONFLICT = Symbol('conflict');
