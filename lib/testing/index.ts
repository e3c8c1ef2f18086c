// diaspora-stream/testing: throw-away drivers for users' own tests. A fresh temporary root, optionally filled from a
// JSON-lines file or a fixture folder, and a driver on it; cleanup() closes the driver and removes the folder.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { Driver } from '../driver.js';
import { DiasporaError, ErrorCode } from '../errors.js';
import type { JsonObject } from '../json.js';
import { parseEventLine, pushableMetadata } from './event-lines.js';

export { parseEventLine, formatEventLine, pushableMetadata, type EventLine } from './event-lines.js';

export interface TestDriver {
  readonly driver: Driver;
  /** The temporary root_path. */
  readonly root: string;
  /** Closes the driver and deletes the root. Idempotent. */
  cleanup(): Promise<void>;
}

/** Anything with a teardown hook, such as ava's `t`: cleanup is registered on it. */
export interface TeardownHost {
  teardown(fn: () => unknown): void;
}

export interface TestDriverOptions {
  /** More files-driver options (root_path is chosen here). */
  driverOptions?: JsonObject;
  /** Registers cleanup() on this test context (ava's `t`). */
  t?: TeardownHost;
}

export interface FixtureOptions extends TestDriverOptions {
  /** Topic a JSON-lines file is loaded into; default: the file name without its extension. */
  topic?: string;
  /** Partitions of that topic; default 1. */
  partitions?: number;
  /** Bare metadata per line instead of {"metadata", "data"} objects. */
  metadataOnly?: boolean;
}

/** A files driver on a fresh, empty temporary root. */
export async function tempDriver(options: TestDriverOptions = {}): Promise<TestDriver> {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'diaspora-test-'));
  return driverOn(root, options);
}

async function driverOn(root: string, options: TestDriverOptions): Promise<TestDriver> {
  let driver: Driver;
  try {
    driver = await Driver.create('files', { ...(options.driverOptions ?? {}), root_path: root });
  } catch (err) {
    fs.rmSync(root, { recursive: true, force: true });
    throw err;
  }
  let done: Promise<void> | undefined;
  const handle: TestDriver = {
    driver,
    root,
    cleanup: () =>
      (done ??= (async () => {
        try {
          await driver.close();
        } finally {
          fs.rmSync(root, { recursive: true, force: true });
        }
      })()),
  };
  options.t?.teardown(() => handle.cleanup());
  return handle;
}

/**
 * Pushes the events of a JSON-lines file into `topic` (created with `partitions` partitions if missing) and
 * flushes. Returns the number of events. A bad line fails with its line number.
 */
export async function loadEventLines(
  driver: Driver,
  topic: string,
  file: string,
  options: { partitions?: number; metadataOnly?: boolean } = {},
): Promise<number> {
  if (!(driver instanceof Driver)) throw new TypeError('driver must be a Driver');
  if (typeof topic !== 'string') throw new TypeError('topic must be a string');
  if (typeof file !== 'string') throw new TypeError('file must be a path');
  if (!(await driver.topicExists(topic))) await driver.createTopic(topic, { options: { num_partitions: options.partitions ?? 1 } });
  const handle = await driver.openTopic(topic);
  const producer = handle.producer({ name: 'diaspora-testing' });
  const lines = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
  let lineNo = 0;
  let count = 0;
  const pushes: Array<PromiseLike<number>> = [];
  try {
    for await (const line of lines) {
      lineNo++;
      if (line.trim().length === 0) continue;
      let ev;
      try {
        ev = parseEventLine(line, options.metadataOnly ?? false);
      } catch (err) {
        const e = err as DiasporaError;
        throw new DiasporaError(e.code ?? ErrorCode.BAD_ARGUMENT, `${file}:${lineNo}: ${e.message}`);
      }
      pushes.push(producer.push(pushableMetadata(ev.metadata), ev.data, ev.partition));
      count++;
    }
    await producer.flush();
    await Promise.all(pushes);
  } finally {
    lines.close();
    await handle.close();
  }
  return count;
}

/**
 * A files driver on a temporary root filled from `source`: a folder (copied as the root: its sub-folders are
 * topics, in either on-disk format) or a JSON-lines file (loaded into one topic, see FixtureOptions).
 */
export async function fixtureDriver(source: string, options: FixtureOptions = {}): Promise<TestDriver> {
  if (typeof source !== 'string') throw new TypeError('source must be a path');
  let st: fs.Stats;
  try {
    st = fs.statSync(source);
  } catch {
    throw new DiasporaError(ErrorCode.BAD_ARGUMENT, `fixture "${source}" does not exist`);
  }
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'diaspora-test-'));
  if (st.isDirectory()) {
    fs.cpSync(source, root, { recursive: true });
    return driverOn(root, options);
  }
  const fx = await driverOn(root, options);
  try {
    const topic = options.topic ?? path.basename(source).replace(/\.[^.]*$/, '');
    await loadEventLines(fx.driver, topic, source, { partitions: options.partitions, metadataOnly: options.metadataOnly });
  } catch (err) {
    await fx.cleanup();
    throw err;
  }
  return fx;
}
