#!/usr/bin/env node
// diaspora-ctl: manage topics, produce/consume/dump/verify events, and run the FIFO bridge and forwarding daemons.

import fs from 'node:fs';
import { Command, CommanderError } from 'commander';
import { benchCommand } from './bench.js';
import { consumeCommand } from './consume.js';
import { consumersCommand } from './consumers.js';
import { extractDottedOptions } from './dotted-options.js';
import { setDottedOptions } from './driver-options.js';
import { dumpCommand } from './dump.js';
import { CliError, reportError, setDebug } from './errors.js';
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
  strictUsage(program);
  refuseOptionsAsValues(program, rest);
  try {
    await program.parseAsync(rest, { from: 'user' });
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    // --help and --version (exit 0), or a group's help shown for a missing subcommand (already printed).
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') {
      process.exitCode = err.exitCode;
      return;
    }
    // A command-line mistake (unknown option or command, missing or excess argument): reported like every error.
    throw new CliError(err.message.replace(/^error: /, ''));
  }
}

/**
 * Every command refuses arguments it does not declare (commander 12 ignores them by default: `topic delete a b`
 * deleted a and said nothing of b), and commander's usage errors are thrown to main() instead of printed by commander
 * and exited with, so they come out as `diaspora-ctl: error: <message> [BAD_ARGUMENT]` like the others.
 */
function strictUsage(cmd: Command): void {
  cmd.allowExcessArguments(false).exitOverride().configureOutput({ outputError: () => {} });
  refuseRepeatedOptions(cmd);
  for (const sub of cmd.commands) strictUsage(sub);
}

/**
 * An option that takes one value, given twice, is a mistake (commander keeps the last one silently: `consumers reset
 * --to earliest ... --to latest` moved to latest, `topic create --name X --name Y` made Y). Options taking several
 * values (`--partition <n...>`) add up and flags say the same thing twice, so they may repeat; dotted options are
 * documented as "the last value wins".
 */
function refuseRepeatedOptions(cmd: Command): void {
  for (const opt of cmd.options) {
    if (opt.variadic || !(opt.required || opt.optional)) continue;
    let first: string | undefined;
    cmd.on(`option:${opt.name()}`, (value: string) => {
      if (first !== undefined) throw new CliError(`option '${opt.long ?? opt.short}' given twice ("${first}", then "${value}"): give it once`);
      first = value;
    });
  }
}

/** Every long option of the program and its commands: those taking a value, and all of them. */
function longOptions(cmd: Command, taking = new Set<string>(), all = new Set<string>(['--help', '--version'])): { taking: Set<string>; all: Set<string> } {
  for (const opt of cmd.options) {
    if (opt.long === undefined) continue;
    all.add(opt.long);
    if (opt.required || opt.variadic) taking.add(opt.long);
  }
  for (const sub of cmd.commands) longOptions(sub, taking, all);
  return { taking, all };
}

/**
 * An option that needs a value, followed by another option (`consume T --name --max 5`): commander takes the second
 * option as the first one's value (a consumer named "--max", then 5 as an excess argument, or worse, nothing said at
 * all). Refused, naming both; a value that really starts with "--" is given as `--name=--max`.
 */
function refuseOptionsAsValues(program: Command, argv: readonly string[]): void {
  const { taking, all } = longOptions(program);
  for (let i = 0; i + 1 < argv.length; i++) {
    if (argv[i] === '--') return;
    const next = argv[i + 1];
    if (!taking.has(argv[i]) || !next.startsWith('--')) continue;
    const name = next.split('=')[0];
    if (all.has(name) || name === '--') {
      throw new CliError(`option '${argv[i]}' needs a value, but is followed by the option '${name}' (a value that starts with "--" is given as ${argv[i]}=${next})`);
    }
  }
}

try {
  await main();
} catch (err) {
  reportError(err);
}
// Drivers may keep watchers alive; every command has finished its output by now (stdout pipes/files are synchronous).
process.exit(process.exitCode ?? 0);
