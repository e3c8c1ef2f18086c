// `fifo --driver files --control-file PATH`: the reference's FIFO bridge (API.md 4.5), fixed. Lines written to the
// control FIFO register producer FIFOs ("P -> topic (k=v, ...)": each line written to P becomes an event) and consumer
// FIFOs ("C <- topic (k=v, ...)": each event becomes a line in C). Unlike the reference: no busy polling, raw lines
// are JSON-escaped, events are committed as soon as their chunk is read, FIFOs serve any number of write sessions,
// and consumer FIFOs acknowledge what they wrote (a restarted bridge resumes after it).

import fs from 'node:fs';
import path from 'node:path';
import type { Socket } from 'node:net';
import { Command } from 'commander';
import { BatchSize, type Driver, type JsonValue, type Producer, type TopicHandle } from '../../lib/index.js';
import { addDriverOptions, openDriver, type DriverFlags } from './driver-options.js';
import { CliError, describeError } from './errors.js';
import { ensureFifo, FifoLineReader, isFifo, openFifoKeeper, openFifoWriter, writeLinesAtomically } from './fifo-io.js';
import { checkLogLevel, Logger } from './logger.js';
import { LineChunks } from './output.js';
import { onShutdown } from './shutdown.js';

export interface BridgeCommand {
  kind: 'producer' | 'consumer';
  path: string;
  topic: string;
  options: Record<string, string>;
}

/** Parses a control line; returns a string (the reason) for an invalid line. */
export function parseControlLine(line: string, warn: (m: string) => void): BridgeCommand | string {
  const m = /^(.*?) (->|<-) (.*)$/s.exec(line);
  if (!m) return 'expected "<fifo> -> <topic>" or "<fifo> <- <topic>", optionally followed by " (k=v, ...)"';
  const fifo = m[1].trim();
  let rest = m[3];
  const options: Record<string, string> = {};
  const open = rest.indexOf('(');
  if (open >= 0) {
    const close = rest.lastIndexOf(')');
    if (close < open || rest.slice(close + 1).trim() !== '') return 'missing ")" after the options';
    for (const pair of rest.slice(open + 1, close).split(',')) {
      const item = pair.trim();
      if (item === '') continue;
      const eq = item.indexOf('=');
      if (eq < 0) {
        warn(`option "${item}" has no "=" and is ignored`);
        continue;
      }
      options[item.slice(0, eq).trim()] = item.slice(eq + 1).trim();
    }
    rest = rest.slice(0, open);
  }
  const topic = rest.trim();
  if (fifo === '' || topic === '') return 'empty FIFO path or topic name';
  return { kind: m[2] === '->' ? 'producer' : 'consumer', path: fifo, topic, options };
}

function formatOption(cmd: BridgeCommand, log: Logger): 'raw' | 'json' {
  const f = cmd.options.format ?? 'raw';
  if (f === 'raw' || f === 'json') return f;
  log.warn(`${cmd.path}: unknown format "${f}", using raw`);
  return 'raw';
}

function batchOption(cmd: BridgeCommand, log: Logger): BatchSize {
  const b = cmd.options.batch_size;
  if (b === undefined || b === 'adaptive') return BatchSize.Adaptive;
  if (/^\d+$/.test(b) && Number(b) >= 1) return Number(b);
  log.warn(`${cmd.path}: invalid batch_size "${b}", using adaptive`);
  return BatchSize.Adaptive;
}

interface ProducerSession {
  reader: FifoLineReader;
  producer: Producer;
}

interface ConsumerSession {
  abort: AbortController;
  done: Promise<void>;
}

export class FifoBridge {
  private readonly topics = new Map<string, Promise<TopicHandle>>();
  private readonly producers = new Map<string, ProducerSession>();
  private readonly consumers = new Map<string, ConsumerSession>();
  private control: FifoLineReader | undefined;
  private stopped = false;

  constructor(
    private readonly driver: Driver,
    private readonly controlFile: string,
    private readonly log: Logger,
  ) {}

  start(): void {
    // A FIFO left by a bridge killed earlier is reused; anything else at the path is someone's file: never replaced.
    if (fs.existsSync(this.controlFile) && !isFifo(this.controlFile)) {
      throw new CliError(`control FIFO "${this.controlFile}": exists and is not a FIFO (it was left as it is: name a new path)`);
    }
    try {
      fs.mkdirSync(path.dirname(path.resolve(this.controlFile)), { recursive: true });
      ensureFifo(this.controlFile);
    } catch (err) {
      throw new CliError(`control FIFO "${this.controlFile}": cannot create it: ${(err as Error).message}`);
    }
    this.control = new FifoLineReader(
      this.controlFile,
      (lines) => {
        for (const line of lines) if (line.trim() !== '') void this.command(line);
      },
      (err) => this.log.error(`control FIFO: ${err.message}`),
    );
    this.log.info(`listening on control FIFO ${this.controlFile}`);
  }

  private topic(name: string): Promise<TopicHandle> {
    let t = this.topics.get(name);
    if (!t) {
      t = this.driver.openTopic(name);
      // One log line per torn tail that recovery cut (or found) in this topic, now or later.
      this.log.recoveriesOf(t);
      this.topics.set(name, t);
      t.catch(() => this.topics.delete(name));
    }
    return t;
  }

  private async command(line: string): Promise<void> {
    const cmd = parseControlLine(line, (m) => this.log.warn(m));
    if (typeof cmd === 'string') {
      this.log.warn(`invalid command "${line}": ${cmd}`);
      return;
    }
    try {
      if (cmd.kind === 'producer') await this.addProducer(cmd);
      else this.addConsumer(cmd);
    } catch (err) {
      this.log.error(`"${line}": ${describeError(err)}`);
    }
  }

  private async addProducer(cmd: BridgeCommand): Promise<void> {
    if (this.producers.has(cmd.path)) {
      this.log.warn(`${cmd.path} is already a producer FIFO`);
      return;
    }
    const format = formatOption(cmd, this.log);
    const topic = await this.topic(cmd.topic);
    if (this.stopped || this.producers.has(cmd.path)) return;
    fs.mkdirSync(path.dirname(path.resolve(cmd.path)), { recursive: true });
    ensureFifo(cmd.path);
    const producer = topic.producer({ name: `fifo:${cmd.path}`, batchSize: batchOption(cmd, this.log) });
    const onLines = (lines: string[]): void => {
      for (const line of lines) {
        if (line === '') continue;
        // raw: the line is a JSON string value (escaped by JSON.stringify); json: the line is JSON text.
        const metadata: JsonValue = format === 'raw' ? JSON.stringify(line) : line;
        producer.push(metadata).then(undefined, (err) => this.log.warn(`${cmd.path}: event "${line}" rejected: ${describeError(err)}`));
      }
      // Commit what this chunk brought now, whatever the batch size, instead of when the writer closes.
      producer.flush().then(undefined, (err) => this.log.error(`${cmd.path}: flush failed: ${describeError(err)}`));
    };
    const reader = new FifoLineReader(cmd.path, onLines, (err) => this.log.error(`${cmd.path}: ${err.message}`));
    this.producers.set(cmd.path, { reader, producer });
    this.log.info(`producer FIFO ${cmd.path} -> topic ${cmd.topic}`);
  }

  private addConsumer(cmd: BridgeCommand): void {
    if (this.consumers.has(cmd.path)) {
      this.log.warn(`${cmd.path} is already a consumer FIFO`);
      return;
    }
    if (fs.existsSync(cmd.path) && !isFifo(cmd.path)) throw new Error(`"${cmd.path}" exists and is not a FIFO`);
    ensureFifo(cmd.path);
    const abort = new AbortController();
    const session: ConsumerSession = { abort, done: Promise.resolve() };
    this.consumers.set(cmd.path, session);
    session.done = this.serveConsumer(cmd, abort.signal).catch((err) => {
      this.log.error(`${cmd.path}: ${describeError(err)}`);
      this.consumers.delete(cmd.path);
    });
    this.log.info(`consumer FIFO ${cmd.path} <- topic ${cmd.topic}`);
  }

  /** One write session per reader of the FIFO; a reader leaving ends the session and the next reader resumes. */
  private async serveConsumer(cmd: BridgeCommand, signal: AbortSignal): Promise<void> {
    const format = formatOption(cmd, this.log);
    const batchSize = batchOption(cmd, this.log);
    const topic = await this.topic(cmd.topic);
    let keeper: number | undefined;
    try {
      while (!signal.aborted) {
        const socket = await openFifoWriter(cmd.path, signal);
        if (!socket) return;
        const previous = keeper;
        keeper = openFifoKeeper(cmd.path);
        if (previous !== undefined) fs.closeSync(previous);
        await this.writeSession(cmd, topic, socket, signal, format, batchSize);
      }
    } finally {
      if (keeper !== undefined) fs.closeSync(keeper);
    }
  }

  /** Writes events to one reader of a consumer FIFO until it leaves (or shutdown); acknowledges what it wrote. */
  private async writeSession(
    cmd: BridgeCommand, topic: TopicHandle, socket: Socket, signal: AbortSignal,
    format: string, batchSize: ReturnType<typeof batchOption>,
  ): Promise<void> {
    const consumer = await topic.consumer(cmd.path, { dataSelector: () => null, batchSize });
    const stop = (): void => void consumer.close();
    signal.addEventListener('abort', stop, { once: true });
    // Lines are written in chunks (output.ts): when one is full, and before waiting for more events; a chunk's events
    // are acknowledged once it is written. A reader that leaves mid-chunk: the chunk's events stay unacknowledged and
    // go to the next reader (the lines of it the old one read are written again).
    const chunk = new LineChunks();
    const writeChunk = (): Promise<boolean> => chunk.write((text) => writeLinesAtomically(socket, text));
    try {
      let readerLeft = false;
      while (!consumer.closed && !readerLeft) {
        const next = consumer.pull();
        if (!next.completed && !(await writeChunk())) readerLeft = true;
        else {
          const event = await next;
          if (event === null) break;
          const md = event.metadata;
          if (chunk.add(format === 'raw' && typeof md === 'string' ? md : JSON.stringify(md), event)) readerLeft = !(await writeChunk());
        }
      }
      if (!readerLeft) readerLeft = !(await writeChunk());
      if (readerLeft) this.log.info(`${cmd.path}: reader closed; waiting for the next one`);
    } finally {
      signal.removeEventListener('abort', stop);
      await consumer.close();
      socket.destroy();
    }
  }

  /** Stops reading, commits every pending event, closes consumers (writing their acknowledgements). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // Only the FIFO this bridge listened on is removed (not a file found at the path when it refused to start).
    if (this.control !== undefined && isFifo(this.controlFile)) fs.rmSync(this.controlFile, { force: true });
    this.control?.close();
    for (const s of this.producers.values()) s.reader.close();
    for (const s of this.consumers.values()) s.abort.abort();
    const errors: unknown[] = [];
    for (const s of this.producers.values()) await s.producer.close().catch((e) => errors.push(e));
    await Promise.all([...this.consumers.values()].map((s) => s.done));
    for (const t of this.topics.values()) await t.then((h) => h.close()).catch(() => {});
    for (const e of errors) this.log.error(`flush on shutdown failed: ${describeError(e)}`);
  }
}

interface FifoFlags extends DriverFlags {
  controlFile: string;
  logging: string;
}

async function runFifo(flags: FifoFlags): Promise<void> {
  const log = new Logger(checkLogLevel(flags.logging));
  const driver = await openDriver(flags);
  const bridge = new FifoBridge(driver, flags.controlFile, log);
  try {
    let stopped!: () => void;
    const done = new Promise<void>((r) => (stopped = r));
    const off = onShutdown(async () => {
      log.info('shutting down');
      await bridge.stop();
      stopped();
    });
    bridge.start();
    await done;
    off();
  } finally {
    await bridge.stop();
    await driver.close();
  }
}

export function fifoCommand(): Command {
  return addDriverOptions(
    new Command('fifo')
      .description('FIFO bridge daemon: write "<fifo> -> <topic> [(format=raw|json, batch_size=n)]" or "<fifo> <- <topic> [(...)]" lines to the control FIFO')
      .requiredOption('--control-file <path>', 'control FIFO to create and read commands from')
      .option('--logging <level>', 'trace, debug, info, warn, error, critical or off (logs go to stderr)', 'info')).action((flags: FifoFlags) => runFifo(flags));
}
