// `consumers [list] T` (positions and lag), `consumers reset T N --to earliest|latest|ID|TIME`, `consumers delete T N`.

import { Command } from 'commander';
import type { TopicHandle } from '../../lib/index.js';
import { addDriverOptions, parseCount, parsePosition, withDriver, withTopic, type DriverFlags } from './driver-options.js';
import { table, writeOut } from './output.js';
import { addConsumerDeleteCommand } from './retention-commands.js';

export interface ConsumerLag {
  name: string;
  partitions: Array<{ partition: number; lastAcknowledged: number | null; endId: number; lag: number }>;
}

/** Every consumer that acknowledged something, with its lag (events after its last acknowledgement) per partition. */
export async function consumerLags(topic: TopicHandle): Promise<ConsumerLag[]> {
  const stats = await topic.stats();
  const consumers = await topic.listConsumers();
  return consumers
    .map((c) => ({
      name: c.name,
      partitions: c.partitions.map((p) => {
        const s = stats.partitions[p.partition];
        const next = p.lastAcknowledged === null ? s.firstId : p.lastAcknowledged + 1;
        return { partition: p.partition, lastAcknowledged: p.lastAcknowledged, endId: s.endId, lag: Math.max(0, s.endId - Math.max(next, s.firstId)) };
      }),
    }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

async function listConsumers(topicName: string, flags: DriverFlags & { json?: boolean }): Promise<void> {
  await withDriver(flags, (driver) =>
    withTopic(driver, topicName, async (topic) => {
      const lags = await consumerLags(topic);
      if (flags.json) {
        await writeOut(lags.map((l) => JSON.stringify(l)).join('\n') + (lags.length > 0 ? '\n' : ''));
        return;
      }
      const rows = [['consumer', 'partition', 'last acknowledged', 'end id', 'lag']];
      for (const c of lags) for (const p of c.partitions) rows.push([c.name, String(p.partition), p.lastAcknowledged === null ? '-' : String(p.lastAcknowledged), String(p.endId), String(p.lag)]);
      await writeOut(lags.length === 0 ? '' : table(rows));
    }),
  );
}

interface ResetFlags extends DriverFlags {
  to: string;
  partition?: string[];
}

async function resetConsumer(topicName: string, name: string, flags: ResetFlags): Promise<void> {
  const to = parsePosition(flags.to, false, '--to') as 'earliest' | 'latest' | number | Date;
  const partitions = flags.partition?.map((p) => parseCount(p, '--partition'));
  await withDriver(flags, (driver) => driver.resetConsumer(topicName, name, to, partitions));
  process.stderr.write(`Consumer '${name}' of '${topicName}' reset to ${flags.to}\n`);
}

export function consumersCommand(): Command {
  const cmd = new Command('consumers').description('list consumers of a topic with their lag, reset or delete one');
  addDriverOptions(
    cmd
      .command('list', { isDefault: true })
      .description('positions and lag of every consumer of a topic (the default: `consumers T`)')
      .argument('<topic>')
      .option('--json', 'JSON lines instead of a table')).action((topic: string, flags: DriverFlags & { json?: boolean }) => listConsumers(topic, flags));
  addDriverOptions(
    cmd
      .command('reset')
      .description('move a (stopped) consumer so that it next reads from a position')
      .argument('<topic>')
      .argument('<consumer>')
      .requiredOption('--to <position>', 'earliest, latest, an event id or a date/time (ISO 8601)')
      .option('--partition <n...>', 'partitions to reset (default: all)')).action((topic: string, name: string, flags: ResetFlags) => resetConsumer(topic, name, flags));
  addConsumerDeleteCommand(cmd);
  return cmd;
}
