// `consume T [--name N]`: events as JSON lines on stdout. A named consumer acknowledges each event once written and
// resumes after it next time; without --name the read is anonymous (non-durable): no claim, nothing acknowledged,
// like kcat or kafka-console-consumer without a group.

import { Command } from 'commander';
import { StopEventProcessor, compileEventbridgePattern, type ConsumerOptions, type EventBatch, type JsonValue } from '../../lib/index.js';
import { formatBatchLine } from '../../lib/testing/event-lines.js';
import { addDriverOptions, parseCount, parsePosition, withDriver, withTopic, type DriverFlags } from './driver-options.js';
import { CliError } from './errors.js';
import { atTurnEnd, LineChunks, StdoutClosed } from './output.js';
import { onShutdown } from './shutdown.js';

/** After SIGINT/SIGTERM, how long a write to a stdout nobody reads is waited for before the command exits anyway. */
const SHUTDOWN_WRITE_GRACE_MS = 2000;

interface ConsumeFlags extends DriverFlags {
  name?: string;
  from?: string;
  until?: string;
  follow?: boolean;
  max?: string;
  filter?: string;
  data: boolean;
  partition?: string[];
  standby?: boolean;
  onTrimmed?: string;
}

/** Compiles --filter (an EventBridge pattern in JSON). */
export function compileFilter(text: string | undefined): ((metadata: JsonValue) => boolean) | undefined {
  if (text === undefined) return undefined;
  let pattern: JsonValue;
  try {
    pattern = JSON.parse(text) as JsonValue;
  } catch (err) {
    throw new CliError(`--filter is not valid JSON: ${(err as Error).message}`);
  }
  return compileEventbridgePattern(pattern);
}

async function consume(topicName: string, flags: ConsumeFlags): Promise<void> {
  if (flags.until !== undefined && flags.until !== 'end') throw new CliError(`--until accepts only "end", got "${flags.until}"`);
  if (flags.until !== undefined && flags.follow) throw new CliError('--until end and --follow exclude each other');
  const max = flags.max === undefined ? Infinity : parseCount(flags.max, '--max');
  const matches = compileFilter(flags.filter);
  const anonymous = flags.name === undefined;
  if (anonymous && flags.standby) throw new CliError('--standby needs --name (an anonymous read claims no partition)');
  // An anonymous read has no committed position: it starts at the earliest event unless told otherwise.
  const from = flags.from ?? (anonymous ? 'earliest' : 'committed');
  if (anonymous && from === 'committed') throw new CliError('--from committed needs --name (an anonymous read has no position)');
  if (flags.onTrimmed !== undefined && flags.onTrimmed !== 'error' && flags.onTrimmed !== 'earliest') {
    throw new CliError(`--on-trimmed accepts error or earliest, got "${flags.onTrimmed}"`);
  }
  const options: ConsumerOptions = {
    from: parsePosition(from, true),
    onTrimmed: (flags.onTrimmed ?? 'error') as 'error' | 'earliest',
    durable: !anonymous,
    until: flags.follow ? undefined : 'end',
    standby: flags.standby ?? false,
  };
  if (!flags.data) options.dataSelector = () => null;
  if (flags.partition) options.targets = flags.partition.map((p) => parseCount(p, '--partition'));
  await withDriver(flags, (driver) =>
    withTopic(driver, topicName, async (topic) => {
      const consumer = await topic.consumer(flags.name ?? `anonymous-${process.pid}`, options);
      // Lines are written in chunks (output.ts): a chunk goes out when it is full, or once the loop below lets the event
      // loop run (it waits for new events, or a long backlog yields), and its events are acknowledged once it is
      // written (so an acknowledged event was handed to stdout; a filtered-out one is acknowledged with its chunk too,
      // so that no acknowledgement passes an event still in it).
      const chunk = new LineChunks();
      let writeFailure: unknown;
      // Settles once every chunk taken so far is written (a failed one rejects it): waited for before closing.
      let lastWrite: Promise<unknown> = Promise.resolve();
      const writeChunk = (): Promise<unknown> => (lastWrite = Promise.all([lastWrite, chunk.write()]));
      const scheduleWrite = atTurnEnd(() => void writeChunk().catch((err: unknown) => void (writeFailure ??= err)));
      // A signal ends a --follow session cleanly: what is printed is acknowledged, then the loop ends and the
      // acknowledgements are written. A reader that stopped reading does not hold the exit: a write still pending
      // SHUTDOWN_WRITE_GRACE_MS after the signal is given up on (its events stay unacknowledged, delivered again next time).
      let signalled!: () => void;
      const stopping = new Promise<void>((r) => (signalled = r));
      const graceAfterSignal = stopping.then(() => new Promise<void>((r) => setTimeout(r, SHUTDOWN_WRITE_GRACE_MS).unref()));
      const orGrace = (p: Promise<unknown>): Promise<unknown> => Promise.race([p, graceAfterSignal]);
      const stopShutdown = onShutdown(() => {
        signalled();
        return orGrace(writeChunk().catch(() => undefined)).finally(() => consumer.close(0));
      });
      let written = 0;
      try {
        if (max === 0) return;
        try {
          // A batch at a time (consecutive events of one partition, read by position: no Event per event). An event
          // acknowledges every earlier one of its partition, so one acknowledgement per batch, taken into the chunk
          // after the batch's lines (and at every point where the chunk is written mid-batch), covers them all.
          const acknowledgeThrough = (batch: EventBatch, i: number) => ({ acknowledge: () => batch.acknowledge(i) });
          const printBatch = async (batch: EventBatch): Promise<void> => {
            if (writeFailure !== undefined) throw writeFailure;
            for (let i = 0; i < batch.length; i++) {
              let full: boolean;
              try {
                // A filtered-out event prints nothing; it is acknowledged with the chunk all the same.
                if (matches && !matches(batch.metadata(i) as JsonValue)) continue;
                full = chunk.add(formatBatchLine(batch, i, flags.data));
              } catch (err) {
                // The events before a failing one are printed and acknowledged all the same.
                if (i > 0) chunk.add(null, acknowledgeThrough(batch, i - 1));
                throw err;
              }
              if (++written >= max) {
                chunk.add(null, acknowledgeThrough(batch, i));
                throw new StopEventProcessor(); // printed by the write below, as the last one
              }
              if (full) {
                chunk.add(null, acknowledgeThrough(batch, i));
                await orGrace(writeChunk()); // backpressure: the loop waits for stdout
                if (writeFailure !== undefined) throw writeFailure;
              }
            }
            chunk.add(null, acknowledgeThrough(batch, batch.length - 1));
            scheduleWrite();
          };
          await consumer.processBatches(printBatch);
        } finally {
          // The events before a failing one are printed (and acknowledged) all the same.
          await orGrace(writeChunk().catch((err: unknown) => void (writeFailure ??= err)));
        }
        if (writeFailure !== undefined) throw writeFailure;
      } catch (err) {
        if (!(err instanceof StdoutClosed)) throw err; // a closed stdout: the events of its chunk stay unacknowledged
      } finally {
        stopShutdown();
        await consumer.close();
      }
    }),
  );
}

export function consumeCommand(): Command {
  return addDriverOptions(
    new Command('consume')
      .description('print events as JSON lines {"partition","id","timestamp","metadata","data"}; with --name, acknowledge them once written')
      .argument('<topic>')
      .option('--name <consumer>', 'consumer name: its position is kept between runs (without it: an anonymous read that acknowledges nothing)')
      .option('--from <position>', 'committed (after the last acknowledged event; the default with --name), earliest (the default without), latest, an event id or a date/time')
      .option('--until <end>', '"end": stop at the end of what exists now (the default unless --follow)')
      .option('-f, --follow', 'keep waiting for new events (stop with Ctrl-C / SIGTERM)')
      .option('--max <n>', 'stop after printing n events (to take n events through a pipe: `| head -n` would let events sit unread in the pipe, already acknowledged)')
      .option('--filter <pattern>', 'only print events whose metadata matches this EventBridge pattern (JSON); others are acknowledged and skipped')
      .option('--no-data', 'leave the data out (it is not read at all)')
      .option('--partition <n...>', 'read only these partitions')
      .option('--standby', 'wait for partitions held by another live consumer of the same name instead of failing')
      .option('--on-trimmed <policy>', 'when retention removed events at the position before they were read: error (the default) or earliest (skip them, with a warning)')).action((topic: string, flags: ConsumeFlags) => consume(topic, flags));
}
