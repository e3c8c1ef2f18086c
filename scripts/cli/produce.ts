// `produce T`: JSON lines from stdin (or --input FILE) pushed into a topic, flushed, ids reported on stdout.

import fs from 'node:fs';
import { Command } from 'commander';
import { DefaultPartitionSelector, DiasporaError, ErrorCode, type Future, type TopicHandle } from '../../lib/index.js';
import { parseEventLine, pushableMetadata } from '../../lib/testing/event-lines.js';
import { Progress } from '../lib/progress.js';
import { addDriverOptions, parseCount, withDriver, withTopic, type DriverFlags } from './driver-options.js';
import { CliError } from './errors.js';
import { lineBatches } from './line-batches.js';
import { StdoutClosed, writeOut } from './output.js';
import { onShutdown } from './shutdown.js';

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
  const inputError = new Promise<never>((_, reject) => input.once('error', (err: Error) => reject(new CliError(`cannot read ${source}: ${err.message}`, ErrorCode.IO))));
  inputError.catch(() => {});
  const size = flags.input === undefined ? 0 : inputSize(flags.input);
  const progress = new Progress('produce', size, process.stderr.isTTY === true && (flags.quiet === true || process.stdout.isTTY !== true));
  await withDriver(flags, (driver) =>
    withTopic(driver, topicName, async (topic) => {
      if (forced !== undefined && forced >= topic.partitions.length) {
        throw new CliError(`--partition ${forced}: topic "${topicName}" has ${topic.partitions.length} partitions; no partition ${forced}`, ErrorCode.OUT_OF_RANGE);
      }
      const producer = topic.producer({ name: 'diaspora-ctl' });
      let results: Result[] = [];
      let reported = 0;
      let failure: Result | undefined;
      let anyFailed = false;
      let count = 0;
      // The reader of stdout went away (`| head -1`): the command stops reading, commits what it pushed, exits 0.
      let stdoutGone!: () => void;
      const stdoutClosed = new Promise<void>((resolve) => (stdoutGone = resolve));
      let stopped = false;
      // SIGINT/SIGTERM (Ctrl-C on `tail -f log | produce`): stop reading at the end of the chunk being pushed (its lines
      // were taken from the input: dropping them would lose them), commit, print the ids, exit 0.
      let interrupted: NodeJS.Signals | undefined;
      let interrupt!: () => void;
      const interruptedPromise = new Promise<void>((resolve) => (interrupt = resolve));
      const stopShutdown = onShutdown((signal) => {
        interrupted = signal;
        interrupt();
      });
      // Ids are printed in input order as soon as a prefix of the pushes is committed: report() runs once the last push
      // of each chunk settled (so one write per chunk, not per line), one report at a time.
      const report = async (): Promise<void> => {
        let out = '';
        while (reported < results.length && (results[reported].id !== undefined || results[reported].error !== undefined)) {
          const r = results[reported++];
          if (r.error !== undefined) failure ??= r;
          else if (!flags.quiet && failure === undefined) out += `{"line":${r.line},"partition":${r.partition},"id":${r.id}}\n`;
        }
        if (reported >= 65536) {
          results = results.slice(reported); // what is reported is not needed any more
          reported = 0;
        }
        if (out && !stopped) await writeOut(out);
      };
      let reporting: Promise<void> = Promise.resolve();
      const scheduleReport = (): void => {
        reporting = reporting.then(report).catch((err: unknown) => {
          if (!(err instanceof StdoutClosed)) throw err;
          stopped = true;
          stdoutGone();
        });
      };
      // --metadata-only lines are pushed as the JSON text they are (stored as given unless a validator, serializer
      // or partition selector of the topic needs the value, see Producer.push); the value is parsed here only when
      // the topic's partition selector needs it to report the partition.
      const selectorReadsValue = Object.getPrototypeOf(topic.partitionSelector) !== DefaultPartitionSelector.prototype;
      const pushAsText = flags.metadataOnly === true;
      let lineNo = 0;
      // Settles once the chunk being pushed is pushed whole (what a signal waits for before stopping).
      let chunkDone: Promise<void> = Promise.resolve();
      try {
        // A chunk's lines are pushed in one job, so they form one batch (see line-batches.ts).
        const pushLines = async (lines: string[]): Promise<void> => {
          let last: Future<number> | undefined;
          for (const line of lines) {
            lineNo++;
            if (line.trim().length === 0) continue;
            let metadata: Parameters<typeof producer.push>[0];
            let data: Buffer | undefined;
            let partition: number;
            try {
              if (pushAsText) {
                metadata = line;
                partition = choosePartition(topic, selectorReadsValue ? parseEventLine(line, true).metadata : null, forced);
              } else {
                const ev = parseEventLine(line, false);
                metadata = pushableMetadata(ev.metadata);
                data = ev.data;
                partition = choosePartition(topic, ev.metadata, forced ?? ev.partition);
              }
            } catch (err) {
              throw CliError.wrap(`${source}:${lineNo}: `, err);
            }
            const r: Result = { line: lineNo, partition };
            results.push(r);
            const pushed = (last = producer.push(metadata, data, partition));
            pushed.then(
              (id) => void (r.id = id),
              (err) => {
                r.error = err;
                anyFailed = true;
              },
            );
            count++;
            // Settled already: refused at once (bad JSON text, a validator), or its batch was written inside push.
            // Either way wait for it here, so that no line after a refused one is pushed.
            if (pushed.completed) await pushed.then(() => undefined, () => undefined);
            if (anyFailed || stopped) break;
          }
          // The chunk's ids are printed once its last push settled (they settle in push order).
          last?.then(scheduleReport, scheduleReport);
        };
        const read = (async () => {
          for await (const { lines, bytes } of lineBatches(input)) {
            if (stopped || interrupted) return;
            progress.tick(bytes);
            const pushing = pushLines(lines);
            chunkDone = pushing.catch(() => undefined);
            await pushing;
            if (anyFailed) return;
          }
        })();
        read.catch(() => {});
        // On a signal, the chunk being pushed is pushed whole (the loop stops before the next one).
        await Promise.race([read, inputError, stdoutClosed, interruptedPromise.then(() => chunkDone)]);
      } finally {
        stopShutdown();
        if (flags.input !== undefined) (input as fs.ReadStream).destroy();
        // Whatever was pushed before an error (or before stdout closed) is committed, never dropped.
        await producer.flush();
        scheduleReport();
        await reporting;
        progress.stop();
      }
      if (failure) throw CliError.wrap(`${source}:${failure.line}: `, failure.error);
      const rest = stopped
        ? ' (stdout was closed: the rest of the input was not read)'
        : interrupted
          ? ` (interrupted by ${interrupted}: the rest of the input was not read)`
          : '';
      process.stderr.write(`produced ${count} event(s) into '${topicName}'${rest}\n`);
    }),
  );
}

/** Size of the --input file, for the progress bar; an input that cannot be read is an error naming it. */
function inputSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`, ErrorCode.IO);
  }
}

/** The partition an event goes to, chosen up front so it can be reported with the id. */
function choosePartition(topic: TopicHandle, metadata: Parameters<TopicHandle['partitionSelector']['selectPartitionFor']>[0], requested: number | undefined): number {
  if (requested !== undefined && requested >= topic.partitions.length) {
    throw new DiasporaError(ErrorCode.OUT_OF_RANGE, `topic "${topic.name}" has ${topic.partitions.length} partitions; no partition ${requested}`);
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
