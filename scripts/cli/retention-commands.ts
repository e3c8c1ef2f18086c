// `topic retention T [--retention-ms N] [--retention-bytes N] [--retention-acked-by a,b|*] [--none]`,
// `topic trim T [--dry-run] [--json]` and `consumers delete T NAME` (docs/retention.md, docs/cli.md).

import { Command } from 'commander';
import type { JsonObject, PartitionTrimResult, TopicRetention } from '../../lib/index.js';
import { addDriverOptions, parseCount, withDriver, withTopic, type DriverFlags } from './driver-options.js';
import { CliError } from './errors.js';
import { table, writeOut } from './output.js';

/** The command line's one-name spelling of retention_acked_by (`--topic.retention_acked_by app`) is a list of one. */
export function retentionOptionsFromCli(options: JsonObject): JsonObject {
  const acked = options.retention_acked_by;
  if (typeof acked === 'string' && acked !== '*') return { ...options, retention_acked_by: [acked] };
  return options;
}

/** One line: what the policy keeps. */
export function describeRetention(r: TopicRetention): string {
  const parts: string[] = [];
  if (r.retention_ms !== undefined) parts.push(`retention_ms ${r.retention_ms}`);
  if (r.retention_bytes !== undefined) parts.push(`retention_bytes ${r.retention_bytes}`);
  if (r.retention_acked_by !== undefined) parts.push(`acked_by ${r.retention_acked_by === '*' ? '*' : r.retention_acked_by.join(',')}`);
  return parts.length === 0 ? 'none (events are kept)' : parts.join(', ');
}

interface RetentionFlags extends DriverFlags {
  retentionMs?: string;
  retentionBytes?: string;
  retentionAckedBy?: string;
  none?: boolean;
}

async function retention(topicName: string, flags: RetentionFlags): Promise<void> {
  const set = flags.retentionMs !== undefined || flags.retentionBytes !== undefined || flags.retentionAckedBy !== undefined;
  if (set && flags.none) throw new CliError('--none cannot be combined with --retention-* options');
  await withDriver(flags, async (driver) => {
    if (set || flags.none) {
      const r: TopicRetention = {};
      if (flags.retentionMs !== undefined) r.retention_ms = parseCount(flags.retentionMs, '--retention-ms');
      if (flags.retentionBytes !== undefined) r.retention_bytes = parseCount(flags.retentionBytes, '--retention-bytes');
      const acked = flags.retentionAckedBy;
      if (acked !== undefined) r.retention_acked_by = acked === '*' ? '*' : acked.split(',');
      // Without opening the topic: a policy damaged in topic.json stops it from opening, not from being replaced.
      const damaged = await driver.setTopicRetention(topicName, r);
      if (damaged !== null) process.stderr.write(`${topicName}: replaced a damaged retention policy: ${damaged}\n`);
    }
    await withTopic(driver, topicName, async (topic) => writeOut(`${topicName}: retention ${describeRetention(await topic.retention())}\n`));
  });
}

async function trim(topicName: string, flags: DriverFlags & { dryRun?: boolean; json?: boolean }): Promise<void> {
  await withDriver(flags, (driver) =>
    withTopic(driver, topicName, async (topic) => {
      const results: PartitionTrimResult[] = await topic.trim({ dryRun: flags.dryRun === true });
      if (flags.json) {
        await writeOut(results.map((r) => JSON.stringify({ ...r, dryRun: flags.dryRun === true })).join('\n') + '\n');
        return;
      }
      const rows = [['partition', 'first id before', 'first id', 'end id', 'segments removed', 'events removed', 'bytes removed', 'why']];
      for (const r of results) {
        const why = [...new Set(r.reasons)].join(',') || '-';
        rows.push([r.partition, r.firstIdBefore, r.firstId, r.endId, r.removedSegments, r.removedEvents, r.removedBytes].map(String).concat([why]));
      }
      await writeOut((flags.dryRun ? 'dry run: nothing removed; a trim would remove\n' : '') + table(rows));
    }),
  );
}

async function deleteConsumer(topicName: string, name: string, flags: DriverFlags): Promise<void> {
  const existed = await withDriver(flags, (driver) => withTopic(driver, topicName, (topic) => topic.deleteConsumer(name)));
  if (!existed) throw new CliError(`Consumer '${name}' of '${topicName}' does not exist`);
  process.stderr.write(`Consumer '${name}' of '${topicName}' deleted\n`);
}

export function addRetentionCommands(topic: Command): void {
  addDriverOptions(
    topic
      .command('retention')
      .description("show a topic's retention, or replace it (the options given form the whole new policy)")
      .argument('<topic>')
      .option('--retention-ms <ms>', 'remove segments whose newest event is this old')
      .option('--retention-bytes <n>', 'per partition: remove the oldest segments beyond this many bytes')
      .option('--retention-acked-by <names>', "keep segments until these consumers (comma list, or '*': all) acknowledged them")
      .option('--none', 'remove the policy: keep everything')).action((name: string, flags: RetentionFlags) => retention(name, flags));
  addDriverOptions(
    topic
      .command('trim')
      .description('remove the segments the retention policy no longer keeps, now')
      .argument('<topic>')
      .option('--dry-run', 'only show what would be removed')
      .option('--json', 'one JSON line per partition')).action((name: string, flags: DriverFlags & { dryRun?: boolean; json?: boolean }) => trim(name, flags));
}

export function addConsumerDeleteCommand(cmd: Command): void {
  addDriverOptions(
    cmd
      .command('delete')
      .description('delete a (stopped) named consumer and its positions; refused while it runs')
      .argument('<topic>')
      .argument('<consumer>')).action((topic: string, name: string, flags: DriverFlags) => deleteConsumer(topic, name, flags));
}

export type { Command };
