// Options shared by the commands that open a driver: --driver, --driver-config and the dotted --driver.<k> values.

import fs from 'node:fs';
import type { Command } from 'commander';
import { Driver, ErrorCode, type JsonObject, type TopicHandle } from '../../lib/index.js';
import { buildConfig, type DottedOptions } from './dotted-options.js';
import { CliError } from './errors.js';

let dotted: DottedOptions | undefined;

/** Set once by the entry point, after it took the dotted options out of argv. */
export function setDottedOptions(options: DottedOptions): void {
  dotted = options;
}

export function dottedOptions(): DottedOptions {
  if (!dotted) throw new Error('dotted options not initialised');
  return dotted;
}

export interface DriverFlags {
  driver: string;
  driverConfig?: string;
}

/** Adds --driver/--driver-config. Every command defaults to the files driver (the reference required --driver). */
export function addDriverOptions(cmd: Command): Command {
  cmd.option('--driver <name>', 'driver type (files, memory, nats, or name:module)', 'files');
  return cmd
    .option('--driver-config <file>', 'driver options as a JSON file (--driver.<key> <value> options win over it)')
    .addHelpText('after', '\nDriver options: --driver.<key> <value>, e.g. --driver.root_path ./data (dots in <key> nest objects).');
}

export function driverConfig(flags: DriverFlags): JsonObject {
  return buildConfig(flags.driverConfig, dottedOptions().driver, 'driver config');
}

/** Creates the driver; the caller closes it. */
export async function openDriver(flags: DriverFlags): Promise<Driver> {
  if (typeof flags.driver !== 'string' || flags.driver.length === 0) throw new CliError('--driver must name a driver');
  return Driver.create(flags.driver, driverConfig(flags));
}

/**
 * The files driver creates its root folder when it opens: a command run with a mistyped --driver.root_path would
 * create an empty one and answer for it (`verify`: "0 topic(s) verified, no problems", exit 0). Only commands that
 * create topics may create the root; the others refuse a root that does not exist.
 */
function checkRootExists(flags: DriverFlags): void {
  if (flags.driver !== 'files') return;
  const root = driverConfig(flags).root_path ?? './diaspora_data';
  if (typeof root !== 'string' || root.length === 0) return; // the driver reports a bad value itself
  if (!fs.existsSync(root)) {
    throw new CliError(`root folder ${root} does not exist (no topic was ever created there: check --driver.root_path)`, ErrorCode.BAD_ARGUMENT);
  }
}

/** Runs `fn` with a driver and closes it afterwards, even on error. `createsRoot`: the command may create the files driver's root. */
export async function withDriver<T>(flags: DriverFlags, fn: (driver: Driver) => Promise<T>, opts: { createsRoot?: boolean } = {}): Promise<T> {
  if (opts.createsRoot !== true) checkRootExists(flags);
  const driver = await openDriver(flags);
  try {
    return await fn(driver);
  } finally {
    await driver.close();
  }
}

/** Opens a topic, runs fn, closes it. */
export async function withTopic<T>(driver: Driver, name: string, fn: (topic: TopicHandle) => Promise<T>): Promise<T> {
  const topic = await driver.openTopic(name);
  try {
    return await fn(topic);
  } finally {
    await topic.close();
  }
}

/** Parses a non-negative integer option value. */
export function parseCount(value: string, what: string): number {
  if (!/^\d+$/.test(value)) throw new CliError(`${what} must be a non-negative integer, got "${value}"`);
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new CliError(`${what} is too large: ${value}`);
  return n;
}

/**
 * A date/time given to --from/--to: ISO 8601 with a time zone, `2026-01-01T12:00:00Z`, `2026-01-01T12:00:00.250+02:00`
 * (seconds and fraction optional), or a date alone, `2026-01-01`, meaning midnight UTC. A time without a zone is
 * refused (it would depend on the machine's), and so is what Date.parse() makes of other strings (`1.5` or `-3`
 * would be dates of 2001).
 */
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-](\d{2}):?(\d{2})))?$/;

/** The date of DATE_TIME, or undefined when `value` is not one (or names no real day or time: 2026-02-30, 24:00). */
export function parseDateTime(value: string): Date | undefined {
  const m = DATE_TIME.exec(value);
  if (m === null) return undefined;
  const [year, month, day, hour, minute, second, , zoneHour, zoneMinute] = m.slice(1).map((x) => Number(x ?? 0));
  const calendar = new Date(Date.UTC(year, month - 1, day));
  if (calendar.getUTCFullYear() !== year || calendar.getUTCMonth() !== month - 1 || calendar.getUTCDate() !== day) return undefined;
  if (hour > 23 || minute > 59 || second > 59 || zoneHour > 23 || zoneMinute > 59) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

/** `earliest`, `latest`, `committed` (when allowed), an event id (decimal digits) or a date/time (parseDateTime). */
export function parsePosition(value: string, allowCommitted: boolean, option = '--from'): 'earliest' | 'latest' | 'committed' | number | Date {
  if (value === 'earliest' || value === 'latest') return value;
  if (value === 'committed' && allowCommitted) return value;
  if (/^\d+$/.test(value)) return parseCount(value, `${option} event id`);
  const date = parseDateTime(value);
  if (date === undefined) {
    throw new CliError(
      `${option}: invalid position "${value}": expected earliest, latest${allowCommitted ? ', committed' : ''}, an event id (decimal digits) ` +
        'or an ISO 8601 date/time with a time zone (2026-01-01T12:00:00Z, 2026-01-01T12:00:00+02:00) or a date (2026-01-01, midnight UTC)',
    );
  }
  return date;
}
