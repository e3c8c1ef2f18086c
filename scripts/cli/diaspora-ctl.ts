#!/usr/bin/env node
// diaspora-ctl: manage topics, produce/consume/dump/verify events, and run the FIFO bridge and forwarding daemons.

import fs from 'node:fs';
import { Command } from 'commander';
import { benchCommand } from './bench.js';
import { consumeCommand } from './consume.js';
import { consumersCommand } from './consumers.js';
import { extractDottedOptions } from './dotted-options.js';
import { setDottedOptions } from './driver-options.js';
import { dumpCommand } from './dump.js';
import { reportError, setDebug } from './errors.js';
import { fifoCommand } from './fifo-bridge.js';
import { forwardCommand } from './forward-daemon.js';
import { produceCommand } from './produce.js';
import { topicCommand } from './topic-commands.js';
import { verifyCommand } from './verify.js';

function packageVersion(): string {
  try {
    return (JSON.parse(fs.readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  let argv = process.argv.slice(2);
  if (argv.includes('--debug')) {
    setDebug(true);
    argv = argv.filter((a) => a !== '--debug');
  }
  const { rest, options } = extractDottedOptions(argv);
  setDottedOptions(options);
  const program = new Command('diaspora-ctl')
    .description('Command line for diaspora-stream topics')
    .version(packageVersion())
    .option('--debug', 'print stack traces of errors')
    .showSuggestionAfterError()
    .addCommand(topicCommand())
    .addCommand(produceCommand())
    .addCommand(consumeCommand())
    .addCommand(dumpCommand())
    .addCommand(verifyCommand())
    .addCommand(consumersCommand())
    .addCommand(fifoCommand())
    .addCommand(forwardCommand())
    .addCommand(benchCommand());
  await program.parseAsync(rest, { from: 'user' });
}

try {
  await main();
} catch (err) {
  reportError(err);
}
// Drivers may keep watchers alive; every command has finished its output by now (stdout pipes/files are synchronous).
process.exit(process.exitCode ?? 0);
