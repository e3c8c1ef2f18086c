// `dump T`: reads events without touching any consumer state (no claims, no offsets), partition by partition,
// as readable text or as JSON lines that `produce` accepts again (offline replay).

import { Command } from 'commander';
import { ErrorCode, type Event, type TopicHandle } from '../../lib/index.js';
import { formatEventLine } from '../../lib/testing/event-lines.js';
import { Progress } from '../lib/progress.js';
import { addDriverOptions, parseCount, parsePosition, withDriver, withTopic, type DriverFlags } from './driver-options.js';
import { CliError } from './errors.js';
import { isoTime, LineChunks, StdoutClosed } from './output.js';
import { compileFilter } from './consume.js';

interface DumpFlags extends DriverFlags {
  partition?: string[];
  from: string;
  to?: string;
  max?: string;
  json?: boolean;
  data: boolean;
  filter?: string;
}

const PREVIEW_BYTES = 32;

/** `[p0 #12] 2026-01-01T00:00:00.000Z {"a":1} 5 bytes: 68656c6c6f` */
function humanLine(e: Event, withData: boolean): string {
  let line = `[p${e.partition} #${e.id}] ${isoTime(e.timestamp)} ${JSON.stringify(e.metadata)}`;
  if (withData) {
    const bytes = e.data.read(0, PREVIEW_BYTES);
    line += ` ${e.data.size} bytes`;
    if (e.data.size > 0) line += `: ${bytes.toString('hex')}${e.data.size > PREVIEW_BYTES ? '...' : ''}`;
  }
  return line;
}

async function rangeSize(topic: TopicHandle, partitions: number[], from: number, to: number): Promise<number> {
  const stats = await topic.stats();
  let n = 0;
  for (const p of partitions) {
    const s = stats.partitions[p];
    n += Math.max(0, Math.min(s.endId, to + 1) - Math.max(s.firstId, from));
  }
  return n;
}

async function dump(topicName: string, flags: DumpFlags): Promise<void> {
  const from = parsePosition(flags.from, false);
  const to = flags.to === undefined ? Infinity : parseCount(flags.to, '--to');
  const max = flags.max === undefined ? Infinity : parseCount(flags.max, '--max');
  const matches = compileFilter(flags.filter);
  await withDriver(flags, (driver) =>
    withTopic(driver, topicName, async (topic) => {
      const all = topic.partitions.map((_, i) => i);
      const partitions = flags.partition?.map((p) => parseCount(p, '--partition')) ?? all;
      for (const p of partitions) if (p >= all.length) throw new CliError(`topic "${topicName}" has ${all.length} partitions; no partition ${p}`, ErrorCode.OUT_OF_RANGE);
      // The bar shares the terminal with nothing only when the events go to a file or a pipe.
      const showProgress = process.stderr.isTTY === true && process.stdout.isTTY !== true;
      const progress = new Progress('dump', await rangeSize(topic, partitions, typeof from === 'number' ? from : 0, to), showProgress);
      let printed = 0;
      const out = new LineChunks(); // written in chunks (output.ts)
      try {
        for (const p of partitions) {
          if (printed >= max) break;
          const consumer = await topic.consumer('diaspora-ctl-dump', {
            durable: false,
            targets: [p],
            from,
            until: 'end',
            dataSelector: flags.data ? undefined : () => null,
          });
          try {
            for await (const e of consumer) {
              if (e.id > to) break;
              progress.tick();
              if (matches && !matches(e.metadata)) continue;
              if (out.add(flags.json ? formatEventLine(e, flags.data) : humanLine(e, flags.data))) await out.write();
              if (++printed >= max) break;
            }
          } finally {
            await consumer.close();
          }
        }
        await out.write();
      } catch (err) {
        if (err instanceof StdoutClosed) return;
        await out.write().catch(() => undefined); // the events before a failing one are printed all the same
        throw err;
      } finally {
        progress.stop();
      }
    }),
  );
}

export function dumpCommand(): Command {
  return addDriverOptions(
    new Command('dump')
      .description('print events of a topic (no consumer state is read or written), partition by partition')
      .argument('<topic>')
      .option('--partition <n...>', 'only these partitions (default: all)')
      .option('--from <position>', 'first event: earliest, latest, an event id or a date/time', 'earliest')
      .option('--to <id>', 'last event id (inclusive)')
      .option('--max <n>', 'stop after n events')
      .option('--filter <pattern>', 'only events whose metadata matches this EventBridge pattern (JSON)')
      .option('--json', 'JSON lines {"partition","id","timestamp","metadata","data"} (what `produce` reads) instead of text')
      .option('--no-data', 'leave the data out')).action((topic: string, flags: DumpFlags) => dump(topic, flags));
}
