// `consume T [--name N]`: events as JSON lines on stdout. A named consumer acknowledges each event once written and
// resumes after it next time; without --name the read is anonymous (non-durable): no claim, nothing acknowledged,
// like kcat or kafka-console-consumer without a group.

import { Command } from 'commander';
import { compileEventbridgePattern, type ConsumerOptions, type JsonValue } from '../../lib/index.js';
import { formatEventLine } from '../../lib/testing/event-lines.js';
import { addDriverOptions, parseCount, parsePosition, withDriver, withTopic, type DriverFlags } from './driver-options.js';
import { CliError } from './errors.js';
import { StdoutClosed, writeOut } from './output.js';
import { onShutdown } from './shutdown.js';

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
      // A signal ends a --follow session cleanly: pending pulls finish and acknowledgements are written.
      const stopShutdown = onShutdown(() => consumer.close());
      let written = 0;
      try {
        if (max === 0) return;
        for await (const event of consumer) {
          if (matches && !matches(event.metadata)) {
            void event.acknowledge(); // skipped by the filter: processed as far as this consumer is concerned
            continue;
          }
          try {
            await writeOut(formatEventLine(event, flags.data) + '\n');
          } catch (err) {
            if (err instanceof StdoutClosed) break; // reader went away: this event stays unacknowledged
            throw err;
          }
          void event.acknowledge();
          if (++written >= max) break;
        }
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
