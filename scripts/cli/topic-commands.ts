// `topic create | list | describe | delete | convert | retention | trim`.

import { Command } from 'commander';
import { formatRecovery, type JsonObject } from '../../lib/index.js';
import { buildConfig } from './dotted-options.js';
import { addDriverOptions, dottedOptions, withDriver, withTopic, type DriverFlags } from './driver-options.js';
import { CliError } from './errors.js';
import { isoTime, table, writeOut } from './output.js';
import { consumerLags, consumerTable } from './consumers.js';
import { addRetentionCommands, describeRetention, retentionOptionsFromCli } from './retention-commands.js';

interface CreateFlags extends DriverFlags {
  name: string;
  topicConfig?: string;
  validator?: string;
  serializer?: string;
  partitionSelector?: string;
}

/** `{...--<prefix>.* options, type}` when --<prefix> is given; the default component otherwise. */
function componentSpec(type: string | undefined, prefix: 'validator' | 'serializer' | 'partition-selector'): JsonObject | undefined {
  const opts = dottedOptions()[prefix];
  if (type === undefined) {
    if (Object.keys(opts).length > 0) throw new CliError(`--${prefix}.* options need --${prefix} <type>`);
    return undefined;
  }
  return { ...opts, type };
}

async function createTopic(flags: CreateFlags): Promise<void> {
  const options = retentionOptionsFromCli(buildConfig(flags.topicConfig, dottedOptions().topic, 'topic config'));
  const validator = componentSpec(flags.validator, 'validator');
  const serializer = componentSpec(flags.serializer, 'serializer');
  const partitionSelector = componentSpec(flags.partitionSelector, 'partition-selector');
  await withDriver(flags, async (driver) => {
    await driver.createTopic(flags.name, { options, validator, serializer, partitionSelector });
  }, { createsRoot: true });
  process.stderr.write(`Topic '${flags.name}' created successfully\n`);
}

async function listTopics(flags: DriverFlags & { verbose?: boolean }): Promise<void> {
  await withDriver(flags, async (driver) => {
    const topics = [...(await driver.listTopics())].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    let out = '';
    for (const [name, info] of topics) out += flags.verbose ? `${name} ${JSON.stringify(info)}\n` : `${name}\n`;
    await writeOut(out);
  });
}

async function describeTopic(name: string, flags: DriverFlags & { json?: boolean }): Promise<void> {
  await withDriver(flags, async (driver) => {
    const info = (await driver.listTopics()).get(name) ?? {};
    await withTopic(driver, name, async (topic) => {
      const stats = await topic.stats();
      const consumers = await consumerLags(topic);
      const retention = await topic.retention();
      if (flags.json) {
        await writeOut(JSON.stringify({ name, info, retention, partitions: stats.partitions, consumers, recovery: topic.recovery }) + '\n');
        return;
      }
      let out = `topic ${name}\n`;
      for (const [k, v] of Object.entries(info)) if (k !== 'name') out += `  ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}\n`;
      // The first id says what retention removed: ids below it are gone (never reused).
      out += `  retention: ${describeRetention(retention)}\n`;
      const rows = [['partition', 'first id', 'end id', 'events', 'metadata bytes', 'data bytes', 'segments', 'first timestamp', 'last timestamp']];
      let events = 0;
      let bytes = 0;
      for (const p of stats.partitions) {
        events += p.events;
        bytes += p.metadataBytes + p.dataBytes;
        rows.push([p.partition, p.firstId, p.endId, p.events, p.metadataBytes, p.dataBytes, p.segments].map(String).concat([isoTime(p.firstTimestamp), isoTime(p.lastTimestamp)]));
      }
      out += `  events: ${events}, bytes: ${bytes}\n\n` + table(rows);
      if (consumers.length === 0) out += '\nno consumers\n';
      else {
        out += '\n' + consumerTable(consumers);
      }
      // Opening the partitions (for their stats) ran crash recovery: say what it cut or found.
      if (topic.recovery.length > 0) out += '\n' + topic.recovery.map((r) => formatRecovery(r) + '\n').join('');
      await writeOut(out);
    });
  });
}

async function deleteTopic(name: string, flags: DriverFlags): Promise<void> {
  await withDriver(flags, (driver) => driver.deleteTopic(name));
  process.stderr.write(`Topic '${name}' deleted\n`);
}

async function convertTopic(name: string, newName: string, flags: DriverFlags & { to: string }): Promise<void> {
  await withDriver(flags, (driver) => driver.convertTopic(name, newName, flags.to));
  process.stderr.write(`Topic '${name}' copied to '${newName}' (${flags.to} format)\n`);
}

export function topicCommand(): Command {
  const topic = new Command('topic').description('create, list, describe, delete, convert and trim topics; show or set retention');

  addDriverOptions(
    topic
      .command('create')
      .description('create a topic')
      .requiredOption('--name <topic>', 'topic name')
      .option('--topic-config <file>', 'topic options as a JSON file (--topic.<key> <value> options win over it)')
      .option('--validator <type>', 'validator type (options: --validator.<key> <value>)')
      .option('--serializer <type>', 'serializer type (options: --serializer.<key> <value>)')
      .option('--partition-selector <type>', 'partition selector type (options: --partition-selector.<key> <value>)')
      .option('--logging <level>', 'accepted for compatibility with the reference')
      .addHelpText('after', '\nTopic options: --topic.<key> <value>, e.g. --topic.num_partitions 4. Values: numbers, comma lists (a,b,1), strings.')).action((flags: CreateFlags) => createTopic(flags));

  addDriverOptions(
    topic
      .command('list')
      .description('print the topic names, one per line')
      .option('-v, --verbose', 'print each topic description as JSON after its name')
      .option('--logging <level>', 'accepted for compatibility with the reference')).action((flags: DriverFlags & { verbose?: boolean }) => listTopics(flags));

  addDriverOptions(
    topic
      .command('describe')
      .description('partitions, events, bytes, segments, first/last timestamps, consumers and their lag')
      .argument('<topic>')
      .option('--json', 'one JSON object instead of tables')).action((name: string, flags: DriverFlags & { json?: boolean }) => describeTopic(name, flags));

  addDriverOptions(topic.command('delete').description('delete a topic and its data').argument('<topic>')).action(
    (name: string, flags: DriverFlags) => deleteTopic(name, flags),
  );

  addDriverOptions(
    topic
      .command('convert')
      .description('copy a topic into another on-disk format (files driver: native or reference)')
      .argument('<topic>', 'source topic')
      .argument('<new-topic>', 'name of the copy')
      .option('--to <format>', 'format of the copy: native or reference', 'native')).action((name: string, newName: string, flags: DriverFlags & { to: string }) => convertTopic(name, newName, flags));

  addRetentionCommands(topic);
  return topic;
}
