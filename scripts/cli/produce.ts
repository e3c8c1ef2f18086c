// `produce T`: JSON lines from stdin (or --input FILE) pushed into a topic, flushed, ids reported on stdout.

import fs from 'node:fs';
import readline from 'node:readline';
import { Command } from 'commander';
import type { TopicHandle } from '../../lib/index.js';
import { parseEventLine, pushableMetadata } from '../../lib/testing/event-lines.js';
import { Progress } from '../lib/progress.js';
import { addDriverOptions, parseCount, withDriver, withTopic, type DriverFlags } from './driver-options.js';
import { CliError, describeError } from './errors.js';
import { writeOut } from './output.js';

interface ProduceFlags extends DriverFlags {
  input?: string;
  metadataOnly?: boolean;
  partition?: string;
  quiet?: boolean;
}

interface Result {
  line: number;
  partition: number;
  id?: number;
  error?: unknown;
}

async function produce(topicName: string, flags: ProduceFlags): Promise<void> {
  const forced = flags.partition === undefined ? undefined : parseCount(flags.partition, '--partition');
  const source = flags.input ?? 'stdin';
  const input = flags.input === undefined ? process.stdin : fs.createReadStream(flags.input);
  const inputError = new Promise<never>((_, reject) => input.once('error', (err: Error) => reject(new CliError(`cannot read ${source}: ${err.message}`))));
  inputError.catch(() => {});
  const size = flags.input === undefined ? 0 : fs.statSync(flags.input).size;
  const progress = new Progress('produce', size, process.stderr.isTTY === true && (flags.quiet === true || process.stdout.isTTY !== true));
  await withDriver(flags, (driver) =>
    withTopic(driver, topicName, async (topic) => {
      if (forced !== undefined && forced >= topic.partitions.length) {
        throw new CliError(`topic "${topicName}" has ${topic.partitions.length} partitions; no partition ${forced}`);
      }
      const producer = topic.producer({ name: 'diaspora-ctl' });
      const results: Result[] = [];
      let reported = 0;
      let failure: Result | undefined;
      let anyFailed = false;
      let count = 0;
      // Ids are printed in input order as soon as a prefix of the pushes is committed.
      const report = async (): Promise<void> => {
        let out = '';
        while (reported < results.length && (results[reported].id !== undefined || results[reported].error !== undefined)) {
          const r = results[reported++];
          if (r.error !== undefined) failure ??= r;
          else if (!flags.quiet && failure === undefined) out += `{"line":${r.line},"partition":${r.partition},"id":${r.id}}\n`;
        }
        if (out) await writeOut(out);
      };
      const lines = readline.createInterface({ input, crlfDelay: Infinity });
      let lineNo = 0;
      try {
        const read = (async () => {
          for await (const line of lines) {
            lineNo++;
            progress.tick(Buffer.byteLength(line) + 1);
            if (line.trim().length === 0) continue;
            let ev;
            try {
              ev = parseEventLine(line, flags.metadataOnly ?? false);
            } catch (err) {
              throw new CliError(`${source}:${lineNo}: ${describeError(err)}`);
            }
            const partition = choosePartition(topic, ev.metadata, forced ?? ev.partition);
            const r: Result = { line: lineNo, partition };
            results.push(r);
            producer.push(pushableMetadata(ev.metadata), ev.data, partition).then(
              (id) => void (r.id = id),
              (err) => {
                r.error = err;
                anyFailed = true;
              },
            );
            count++;
            if (results.length - reported >= 1024) await report();
            if (anyFailed) break;
          }
        })();
        await Promise.race([read, inputError]);
      } finally {
        lines.close();
        // Whatever was pushed before an error is committed, never dropped.
        await producer.flush();
        await report();
        progress.stop();
      }
      if (failure) throw new CliError(`${source}:${failure.line}: ${describeError(failure.error)}`);
      process.stderr.write(`produced ${count} event(s) into '${topicName}'\n`);
    }),
  );
}

/** The partition an event goes to, chosen up front so it can be reported with the id. */
function choosePartition(topic: TopicHandle, metadata: Parameters<TopicHandle['partitionSelector']['selectPartitionFor']>[0], requested: number | undefined): number {
  if (requested !== undefined && requested >= topic.partitions.length) {
    throw new CliError(`topic "${topic.name}" has ${topic.partitions.length} partitions; no partition ${requested}`);
  }
  return topic.partitionSelector.selectPartitionFor(metadata, requested);
}

export function produceCommand(): Command {
  return addDriverOptions(
    new Command('produce')
      .description('push JSON lines {"metadata": ..., "data": "<base64>", "partition": n} from stdin into a topic; prints {"line","partition","id"} per event')
      .argument('<topic>')
      .option('-i, --input <file>', 'read this file instead of stdin (shows a progress bar on a terminal)')
      .option('--metadata-only', 'each line is the metadata itself (no data)')
      .option('--partition <n>', 'put every event in this partition')
      .option('-q, --quiet', 'do not print the ids')).action((topic: string, flags: ProduceFlags) => produce(topic, flags));
}
