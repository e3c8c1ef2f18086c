// `forward --config F.yaml`: the reference's forwarding daemon (API.md 4.6), fixed. Each policy reads its source
// topic with a consumer named "<srcDrv>/<srcTopic>-><dstDrv>/<dstTopic>" and pushes metadata and data into the
// destination; a source event is acknowledged only once the destination committed it, so a restart (even after
// SIGKILL) resumes where it stopped and nothing is lost (after a crash a few events may be forwarded twice).

import fs from 'node:fs';
import { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { Driver, ErrorCode, type Consumer, type Event, type Future, type JsonObject, type Producer, type TopicHandle } from '../../lib/index.js';
import { isJsonObject as isJsonObjectValue } from '../../lib/json.js';
import { CliError, describeError } from './errors.js';
import { parseCount } from './driver-options.js';
import { checkLogLevel, Logger } from './logger.js';
import { atTurnEnd } from './output.js';
import { onShutdown } from './shutdown.js';

export interface ForwardPolicy {
  from: { driver: string; topic: string };
  to: { driver: string; topic: string };
}

export interface ForwardConfig {
  drivers: Map<string, { type: string; options: JsonObject }>;
  policies: ForwardPolicy[];
}

function topicRef(value: unknown, field: string, index: number): { driver: string; topic: string } {
  if (typeof value !== 'string') throw new CliError(`forward entry ${index} is missing '${field}'`, ErrorCode.BAD_CONFIG);
  const slash = value.indexOf('/');
  if (slash <= 0 || slash === value.length - 1) throw new CliError(`Invalid topic reference '${value}': expected 'driver/topic'`, ErrorCode.BAD_CONFIG);
  return { driver: value.slice(0, slash), topic: value.slice(slash + 1) };
}

/** Reads and checks the YAML configuration (same shape as the reference's). */
export function readForwardConfig(file: string): ForwardConfig {
  let doc: unknown;
  try {
    doc = parseYaml(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CliError(`Failed to parse YAML config: ${(err as Error).message}`, ErrorCode.BAD_CONFIG);
  }
  if (!isJsonObjectValue(doc) || !isJsonObjectValue(doc.drivers)) throw new CliError("Config missing 'drivers' section", ErrorCode.BAD_CONFIG);
  const drivers = new Map<string, { type: string; options: JsonObject }>();
  for (const [name, d] of Object.entries(doc.drivers)) {
    if (!isJsonObjectValue(d) || typeof d.type !== 'string') throw new CliError(`Driver '${name}' missing required 'type' field`, ErrorCode.BAD_CONFIG);
    const options = d.options ?? {};
    if (!isJsonObjectValue(options)) throw new CliError(`Driver '${name}': 'options' must be a mapping`, ErrorCode.BAD_CONFIG);
    drivers.set(name, { type: d.type, options });
  }
  if (!Array.isArray(doc.forward) || doc.forward.length === 0) throw new CliError("Config missing 'forward' entries", ErrorCode.BAD_CONFIG);
  const policies = doc.forward.map((entry: unknown, i: number) => {
    if (!isJsonObjectValue(entry)) throw new CliError(`forward entry ${i} must be a mapping with 'from' and 'to'`, ErrorCode.BAD_CONFIG);
    for (const key of ['data_selector', 'data_allocator']) {
      if (entry[key] !== undefined) throw new CliError(`forward entry ${i}: '${key}' plugins are not supported (all data is forwarded)`, ErrorCode.BAD_CONFIG);
    }
    const policy = { from: topicRef(entry.from, 'from', i), to: topicRef(entry.to, 'to', i) };
    for (const ref of [policy.from, policy.to]) if (!drivers.has(ref.driver)) throw new CliError(`Unknown driver '${ref.driver}' in forward entry ${i}`, ErrorCode.BAD_CONFIG);
    return policy;
  });
  return { drivers, policies };
}

export function consumerNameOf(p: ForwardPolicy): string {
  return `${p.from.driver}/${p.from.topic}->${p.to.driver}/${p.to.topic}`;
}

/** A forwarded event waiting for its push to commit. */
interface InFlight {
  readonly event: Event;
  readonly pushed: Future<number>;
  failed: boolean;
}

/** One policy: pull, push, acknowledge once committed; stop() flushes and writes the acknowledgements. */
export class ForwardWorker {
  private stopping = false;
  /** Ends the pull in progress (replaced at each pull, so nothing piles up on a long run). */
  private wakeForStop: () => void = () => {};
  /** Forwarded events in push order, until acknowledged (or failed). */
  private inFlight: InFlight[] = [];
  /** Source partitions with a failed push: nothing from it on is acknowledged (a restart forwards it again). */
  private readonly blocked = new Set<number>();
  private failure: unknown;
  private readonly acks = new Set<Promise<void>>();
  forwarded = 0;

  constructor(
    readonly name: string,
    private readonly consumer: Consumer,
    private readonly producer: Producer,
    private readonly log: Logger,
  ) {}

  async run(): Promise<void> {
    while (!this.stopping) {
      const pull = this.consumer.pull();
      // An event that arrives after stop() is left unacknowledged: the next run forwards it. Only a pull that waits
      // needs to be woken by stop(); one that has its event already is awaited as it is.
      const event: Event | null = pull.completed
        ? await pull
        : await new Promise<Event | null>((resolve, reject) => {
            this.wakeForStop = () => resolve(null);
            pull.then(resolve, reject);
          });
      if (event === null) break;
      this.forward(event);
    }
    if (this.failure !== undefined) throw this.failure;
  }

  private forward(event: Event): void {
    // The metadata as its JSON text (the stored text for JSON serializers: not parsed and re-serialized). Nobody
    // waits for the push (a catch() only records a failure), so the pushes of a turn form one batch of the
    // destination (lib/producer.ts); they are acknowledged by the sweep below once committed.
    const record: InFlight = { event, pushed: this.producer.push(event.metadataText, event.data), failed: false };
    record.pushed.catch((err: unknown) => {
      record.failed = true;
      // Neither it nor anything after it in its partition is acknowledged (an acknowledgement is cumulative: one of a
      // later event would cover it), and the policy stops: a restart forwards again from this event.
      if (this.failure === undefined) {
        const cause = CliError.wrap('', err);
        this.failure = new CliError(`${this.name}: event ${event.partition}/${event.id} not forwarded: ${cause.message}; stopped (a restart forwards it again)`, cause.code, { details: cause.details });
        this.log.error(describeError(this.failure));
        this.stopping = true;
        this.wakeForStop();
      }
    });
    this.inFlight.push(record);
    this.scheduleSweep();
  }

  private readonly scheduleSweep = atTurnEnd(() => {
    this.sweep();
    // Pushes not committed yet: sweep again once the first of them settles (they settle in push order), rather than
    // every turn, which spins while a slow destination (nats) commits. Its batch is being written already.
    const first = this.inFlight[0];
    if (first !== undefined) first.pushed.then(this.scheduleSweep, this.scheduleSweep);
  });

  /**
   * Acknowledges the forwarded events whose push committed, in push order: pushes commit in order (strict ordering),
   * so the first one still pending ends the sweep, and a per-partition acknowledgement never passes an uncommitted
   * event. A failed push blocks its partition: neither it nor a later event of the partition is acknowledged (its
   * catch() ran before this sweep: it settled earlier).
   */
  private sweep(): void {
    let done = 0;
    for (const r of this.inFlight) {
      if (!r.pushed.completed) break;
      done++;
      if (r.failed) this.blocked.add(r.event.partition);
      if (this.blocked.has(r.event.partition)) continue;
      this.forwarded++;
      const ack: Promise<void> = r.event.acknowledge().then(
        () => void this.acks.delete(ack),
        () => void this.acks.delete(ack),
      );
      this.acks.add(ack);
    }
    if (done > 0) this.inFlight = this.inFlight.slice(done);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wakeForStop();
    await this.producer.flush().then(undefined, (err) => this.log.error(`${this.name}: flush failed: ${describeError(err)}`));
    // Every push has settled now (their catch() handlers ran during the await): acknowledge what committed.
    this.sweep();
    await Promise.all([...this.acks]);
    await this.consumer.close();
  }
}

/**
 * retention: trims the source topics every `everyMs` (0: never) on a timer of this process, one trim at a time.
 * Topics without retention (another driver, the reference format) answer UNSUPPORTED and are left alone. A topic
 * with no policy now is not trimmed (a trim takes every partition's writer lock, which producers then wait for);
 * its policy is read again at each tick, so one set later by another process applies.
 */
export function startSourceTrims(sources: Array<Promise<TopicHandle>>, everyMs: number, log: Logger): { stop(): void } {
  if (!(everyMs > 0)) return { stop: () => {} };
  const unique = [...new Set(sources)];
  const skip = new Set<Promise<TopicHandle>>();
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    void (async () => {
      for (const t of unique) {
        if (skip.has(t)) continue;
        try {
          const topic = await t;
          if (Object.keys(await topic.retention()).length === 0) continue;
          for (const r of await topic.trim()) if (r.removedEvents > 0) log.info(`${topic.name}/${r.partition}: retention removed ${r.removedEvents} event(s), first id ${r.firstId}`);
        } catch (err) {
          if ((err as { code?: string }).code === 'UNSUPPORTED') skip.add(t);
          else log.error(`retention trim failed: ${describeError(err)}`);
        }
      }
    })().finally(() => (running = false));
  }, everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

async function runForward(flags: { config: string; logging: string; trimEveryMs: string }): Promise<void> {
  const log = new Logger(checkLogLevel(flags.logging));
  const config = readForwardConfig(flags.config);
  const trimEveryMs = parseCount(flags.trimEveryMs, '--trim-every-ms'); // checked before anything starts
  const drivers = new Map<string, Driver>();
  const topics = new Map<string, Promise<TopicHandle>>();
  const workers: ForwardWorker[] = [];
  let off = (): void => {};
  try {
    for (const [name, d] of config.drivers) drivers.set(name, await Driver.create(d.type, d.options));
    const topic = (ref: { driver: string; topic: string }): Promise<TopicHandle> => {
      const key = `${ref.driver}/${ref.topic}`;
      let t = topics.get(key);
      if (!t) {
        t = drivers.get(ref.driver)!.openTopic(ref.topic);
        // One log line per torn tail that recovery cut (or found) in this topic, now or while forwarding.
        log.recoveriesOf(t);
        topics.set(key, t);
      }
      return t;
    };
    // Every topic is opened before any policy starts, so a missing one stops the daemon before it forwards anything.
    // A missing destination is not created: its partitions, components and retention are the user's choice (and a
    // misspelt name in the config would silently make a new topic).
    const opened = async (ref: { driver: string; topic: string }, role: 'source' | 'destination', i: number): Promise<TopicHandle> => {
      try {
        return await topic(ref);
      } catch (err) {
        const e = CliError.wrap(`forward entry ${i}: ${role} ${ref.driver}/${ref.topic}: `, err);
        if (e.code !== ErrorCode.TOPIC_NOT_FOUND) throw e;
        throw new CliError(`${e.message} (the daemon creates no topic: create it first, e.g. diaspora-ctl topic create --name ${ref.topic})`, e.code);
      }
    };
    const ends: Array<[TopicHandle, TopicHandle]> = [];
    for (const [i, p] of config.policies.entries()) ends.push([await opened(p.from, 'source', i), await opened(p.to, 'destination', i)]);
    for (const [i, p] of config.policies.entries()) {
      const [src, dst] = ends[i]!;
      const name = consumerNameOf(p);
      workers.push(new ForwardWorker(name, await src.consumer(name), dst.producer({ name }), log));
    }
    for (const p of config.policies) log.info(`forwarding ${p.from.driver}/${p.from.topic} -> ${p.to.driver}/${p.to.topic}`);
    // retention: the daemon trims its source topics (their destinations are trimmed by the daemon's producers).
    const trimmer = startSourceTrims(config.policies.map((p) => topic(p.from)), trimEveryMs, log);
    let stopping: Promise<void> | undefined;
    const stopAll = (): Promise<void> => (stopping ??= Promise.all(workers.map((w) => w.stop())).then(() => undefined));
    off = onShutdown(() => {
      log.info('shutting down');
      return stopAll();
    });
    await Promise.all(workers.map((w) => w.run()));
    await stopAll();
    for (const w of workers) log.info(`${w.name}: ${w.forwarded} event(s) forwarded`);
    trimmer.stop();
  } finally {
    off();
    for (const w of workers) await w.stop().catch(() => {});
    for (const d of drivers.values()) await d.close().catch((err) => log.error(describeError(err)));
  }
}

export function forwardCommand(): Command {
  return new Command('forward')
    .description('forwarding daemon: copies events (metadata and data) between topics per a YAML config; stop with SIGINT/SIGTERM')
    .requiredOption('--config <file>', 'YAML: drivers: {<name>: {type, options}}, forward: [{from: <driver>/<topic>, to: <driver>/<topic>}]')
    .option('--logging <level>', 'trace, debug, info, warn, error, critical or off (logs go to stderr)', 'info')
    .option('--trim-every-ms <ms>', 'apply the source topics\' retention this often (0: never)', '1000')
    .action((flags: { config: string; logging: string; trimEveryMs: string }) => runForward(flags));
}
