// The reference's dotted options (API.md 4.2): `--driver.<k> v`, `--topic.<k> v`, `--validator.<k> v`,
// `--serializer.<k> v`, `--partition-selector.<k> v` are taken out of argv before the parser runs. Dots in <k> build
// nested objects, numbers and comma lists are parsed, and the result is merge-patched over the JSON config file.

import fs from 'node:fs';
import { ErrorCode } from '../../lib/errors.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../../lib/json.js';
import { CliError } from './errors.js';

export const DOTTED_PREFIXES = ['driver', 'topic', 'validator', 'serializer', 'partition-selector'] as const;
export type DottedPrefix = (typeof DOTTED_PREFIXES)[number];
export type DottedOptions = Record<DottedPrefix, JsonObject>;

const NUMBER = /^[+-]?\d*\.?\d*$/;

/** Parses one value: a number (digits with at most one dot), a comma list of values, or a string. */
export function parseDottedValue(raw: string): JsonValue {
  if (NUMBER.test(raw) && /\d/.test(raw)) return Number(raw);
  if (NUMBER.test(raw) && raw.includes('.')) throw new CliError(`invalid number "${raw}"`, ErrorCode.BAD_CONFIG);
  if (raw.includes(',')) {
    const items = raw.split(',');
    if (items[items.length - 1] === '') items.pop(); // "a,b," is ["a","b"], as in the reference
    return items.map((item) => parseDottedValue(item));
  }
  return raw;
}

/**
 * Driver options that are booleans: the reference's value parsing has none (`true` is the string "true"), which left
 * them settable from a config file only. `true` and `false` are booleans here; any other value stays a string, which
 * the driver refuses by name (BAD_CONFIG).
 */
const BOOLEAN_DRIVER_OPTIONS = ['verify_data', 'use_file_locking'];

function parseBooleanOption(raw: string): JsonValue {
  return raw === 'true' ? true : raw === 'false' ? false : raw;
}

/** A comma list of names kept as strings ('*' alone stays '*'; a trailing comma is dropped, as in parseDottedValue). */
export function parseNameList(raw: string): JsonValue {
  if (raw === '*') return raw;
  const items = raw.split(',');
  if (items.length > 1 && items[items.length - 1] === '') items.pop();
  return items;
}

function setPath(target: JsonObject, keys: string[], value: JsonValue): void {
  let node = target;
  for (const k of keys.slice(0, -1)) {
    const next = node[k];
    if (!isJsonObject(next)) node[k] = {};
    node = node[k] as JsonObject;
  }
  node[keys[keys.length - 1]] = value;
}

/**
 * Removes every `--<prefix>.<key> <value>` (and `--<prefix>.<key>=<value>`) pair from `argv` and returns them as
 * objects. A dotted flag with no value after it is left in argv, so the parser rejects it as unknown.
 */
export function extractDottedOptions(argv: string[]): { rest: string[]; options: DottedOptions } {
  const options = Object.fromEntries(DOTTED_PREFIXES.map((p) => [p, {}])) as unknown as DottedOptions;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    const m = /^--([a-z-]+)\.([^=]+)(?:=(.*))?$/s.exec(arg);
    const prefix = m?.[1] as DottedPrefix | undefined;
    if (!m || !prefix || !(DOTTED_PREFIXES as readonly string[]).includes(prefix)) {
      rest.push(arg);
      continue;
    }
    let value = m[3];
    if (value === undefined) {
      if (i + 1 >= argv.length) {
        rest.push(arg);
        continue;
      }
      value = argv[++i];
    }
    const keys = m[2].split('.');
    if (keys.some((k) => k.length === 0)) throw new CliError(`invalid option name "${arg}"`);
    // Consumer names are names, never numbers: `--topic.retention_acked_by 007,b` names "007" and "b".
    const names = prefix === 'topic' && m[2] === 'retention_acked_by';
    // A path is a path: `--driver.root_path 2024` or `data,old` are folders, not a number and a list.
    const isPath = prefix === 'driver' && m[2] === 'root_path';
    const isBoolean = prefix === 'driver' && BOOLEAN_DRIVER_OPTIONS.includes(m[2]);
    const parsed = isPath ? value : names ? parseNameList(value) : isBoolean ? parseBooleanOption(value) : parseDottedValue(value);
    setPath(options[prefix], keys, parsed);
  }
  return { rest, options };
}

/** RFC 7396 JSON merge patch: `patch` wins; null deletes. */
export function mergePatch(target: JsonValue, patch: JsonValue): JsonValue {
  if (!isJsonObject(patch)) return patch;
  const out: JsonObject = isJsonObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k] ?? null, v);
  }
  return out;
}

/** Reads a JSON object from a config file; a missing or invalid file is an error (the reference ignored a missing one). */
export function readJsonConfig(file: string | undefined, what: string): JsonObject {
  if (file === undefined) return {};
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${what} "${file}": ${(err as Error).message}`, ErrorCode.BAD_CONFIG);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new CliError(`${what} "${file}" is not valid JSON: ${(err as Error).message}`, ErrorCode.BAD_CONFIG);
  }
  if (!isJsonObject(value)) throw new CliError(`${what} "${file}" must contain a JSON object`, ErrorCode.BAD_CONFIG);
  return value;
}

/** The config file's object with the command line's dotted options applied over it. */
export function buildConfig(file: string | undefined, dotted: JsonObject, what: string): JsonObject {
  return mergePatch(readJsonConfig(file, what), dotted) as JsonObject;
}
