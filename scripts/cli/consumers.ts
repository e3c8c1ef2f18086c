// `consumers [list] T` (positions and lag), `consumers reset T N --to earliest|latest|ID|TIME`, `consumers delete T N`.

import { Command } from 'commander';
import type { PositionDamage, TopicHandle } from '../../lib/index.js';
import { addDriverOptions, parseCount, parsePosition, withDriver, withTopic, type DriverFlags } from './driver-options.js';
import { CliError } from './errors.js';
import { table, writeOut } from './output.js';
import { addConsumerDeleteCommand } from './retention-commands.js';

export interface ConsumerLag {
  name: string;
  /** A damaged position has `damaged` (file, message), `lastAcknowledged` null and `lag` null (unknown). */
  partitions: Array<{ partition: number; lastAcknowledged: number | null; endId: number; lag: number | null; damaged?: PositionDamage }>;
}

/**
 * Every named consumer of the topic, with its lag (events after its last acknowledgement) per partition it has a
 * position in (none yet: `partitions` is empty).
 */
export async function consumerLags(topic: TopicHandle): Promise<ConsumerLag[]> {
  const stats = await topic.stats();
  const consumers = await topic.listConsumers();
  return consumers
    .map((c) => ({
      name: c.name,
      partitions: c.partitions.map((p) => {
        const s = stats.partitions[p.partition];
        if (p.damaged) return { partition: p.partition, lastAcknowledged: null, endId: s.endId, lag: null, damaged: p.damaged };
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
      await writeOut(lags.length === 0 ? '' : consumerTable(lags));
    }),
  );
}

/**
 * The table of `consumers T` and `topic describe T`: a row per consumer and partition; a consumer without any position
 * yet (it ran and acknowledged nothing, or was reset on no partition) gets one row of dashes, so that the table lists
 * the consumers --json lists. A damaged position is a DAMAGED row, and a line under the table names its file and what
 * is wrong (the way out is in the message: a reset rewrites the file).
 */
export function consumerTable(lags: ConsumerLag[]): string {
  const rows = [['consumer', 'partition', 'last acknowledged', 'end id', 'lag']];
  const damage: string[] = [];
  for (const c of lags) {
    if (c.partitions.length === 0) rows.push([c.name, '-', '-', '-', '-']);
    for (const p of c.partitions) {
      if (p.damaged) {
        rows.push([c.name, String(p.partition), 'DAMAGED', String(p.endId), '?']);
        damage.push(`consumer '${c.name}' partition ${p.partition}: ${p.damaged.message} [${p.damaged.code}]\n`);
      } else {
        rows.push([c.name, String(p.partition), p.lastAcknowledged === null ? '-' : String(p.lastAcknowledged), String(p.endId), String(p.lag)]);
      }
    }
  }
  return table(rows) + (damage.length > 0 ? '\n' + damage.join('') : '');
}

interface ResetFlags extends DriverFlags {
  to: string;
  partition?: string[];
  create?: boolean;
}

/** The names of the topic's consumers (one whose offset file is damaged too: the reset that repairs it needs it). */
async function consumerNames(topic: TopicHandle): Promise<string[]> {
  return (await topic.listConsumers()).map((c) => c.name);
}

async function resetConsumer(topicName: string, name: string, flags: ResetFlags): Promise<void> {
  const to = parsePosition(flags.to, false, '--to') as 'earliest' | 'latest' | number | Date;
  const partitions = flags.partition?.map((p) => parseCount(p, '--partition'));
  await withDriver(flags, (driver) =>
    withTopic(driver, topicName, async (topic) => {
      // A reset writes positions, which makes the consumer exist: a misspelt name would silently make a new one.
      if (!flags.create && !(await consumerNames(topic)).includes(name)) {
        throw new CliError(`Consumer '${name}' of '${topicName}' does not exist (--create makes it, starting at --to)`);
      }
      await topic.resetConsumer(name, to, partitions);
    }),
  );
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
      .option('--partition <n...>', 'partitions to reset (default: all)')
      .option('--create', 'make the consumer if it does not exist (without it, an unknown name is an error)')).action((topic: string, name: string, flags: ResetFlags) => resetConsumer(topic, name, flags));
  addConsumerDeleteCommand(cmd);
  return cmd;
}
