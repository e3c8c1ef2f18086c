// Metadata for data selectors and allocators, read field by field from the stored JSON text.
//
// A selector usually looks at one or two top-level fields ("energy > 49"). Parsing the whole text to build an object
// for that costs 2-3x more than finding the field in the bytes, so the selector gets a Proxy that answers a read of a
// top-level key whose value is a number, string, boolean or null straight from the text. Anything else (a nested
// value, listing keys, writing, JSON.stringify, an escaped key, a key missing from the text) parses the whole text
// once and from then on acts on that plain object, so the result is always what JSON.parse would give.
import { strictUtf8, type JsonValue } from './json.js';


const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Not found as a plain top-level value: answer from the full parse. */
const PARSE = Symbol('parse');

const isWs = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/** Index after the closing quote of a string whose opening quote is at i - 1; -1 if unterminated. Sets `escaped`. */
function skipString(b: Uint8Array, i: number, flags: { escaped: boolean }): number {
  const n = b.length;
  while (i < n) {
    const c = b[i++];
    if (c === QUOTE) return i;
    if (c === BACKSLASH) {
      flags.escaped = true;
      i++;
    }
  }
  return -1;
}

/** Index after the value starting at i (nested containers skipped); -1 when the text is not as expected. */
function skipValue(b: Uint8Array, i: number, flags: { escaped: boolean }): number {
  const n = b.length;
  let depth = 0;
  while (i < n) {
    const c = b[i];
    if (c === QUOTE) {
      i = skipString(b, i + 1, flags);
      if (i < 0) return -1;
      if (depth === 0) return i;
      continue;
    }
    if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      if (depth === 0) return i;
      depth--;
      if (depth === 0) return i + 1;
    } else if (depth === 0 && (c === 0x2c || isWs(c))) return i;
    i++;
  }
  return depth === 0 ? i : -1;
}

/** Largest count of integer digits summed exactly in a double (10^15 < 2^53). */
const EXACT_DIGITS = 15;

/**
 * The number literal b[start, end) (already checked JSON). A plain integer of up to 15 digits, the usual field, is
 * summed from its digits (exact, and no string is made); anything else goes through Number().
 */
function numberAt(b: Uint8Array, start: number, end: number): number {
  const negative = b[start] === 0x2d;
  const from = negative ? start + 1 : start;
  if (end - from <= EXACT_DIGITS) {
    let v = 0;
    let i = from;
    for (; i < end; i++) {
      const d = b[i] - 0x30;
      if (d < 0 || d > 9) break;
      v = v * 10 + d;
    }
    if (i === end && i > from) return negative ? -v : v;
  }
  return Number(String.fromCharCode.apply(null, b.subarray(start, end) as unknown as number[]));
}

/**
 * The value of top-level key `key` of the JSON object text `b` when it is a primitive; PARSE when the answer needs
 * the full parse (no such key, a container value, escapes in a key, anything unexpected).
 */
export function topLevelPrimitive(b: Uint8Array, key: string): JsonValue | typeof PARSE {
  const n = b.length;
  let i = 0;
  while (i < n && isWs(b[i])) i++;
  if (b[i] !== 0x7b) return PARSE;
  i++;
  let start = -1;
  let end = -1;
  const flags = { escaped: false };
  for (;;) {
    while (i < n && isWs(b[i])) i++;
    if (b[i] === 0x7d) break;
    if (b[i] !== QUOTE) return PARSE;
    const keyStart = i + 1;
    flags.escaped = false;
    i = skipString(b, keyStart, flags);
    if (i < 0 || flags.escaped) return PARSE;
    const keyEnd = i - 1;
    let match = keyEnd - keyStart === key.length;
    for (let k = 0; match && k < key.length; k++) if (b[keyStart + k] !== key.charCodeAt(k)) match = false;
    while (i < n && isWs(b[i])) i++;
    if (b[i] !== 0x3a) return PARSE;
    i++;
    while (i < n && isWs(b[i])) i++;
    const valueStart = i;
    i = skipValue(b, i, flags);
    if (i < 0) return PARSE;
    if (match) {
      start = valueStart; // the last duplicate wins, as with JSON.parse
      end = i;
    }
    while (i < n && isWs(b[i])) i++;
    if (b[i] === 0x2c) i++;
    else if (b[i] === 0x7d) break;
    else return PARSE;
  }
  if (start < 0) return PARSE;
  const c = b[start];
  if (c === QUOTE) {
    for (let k = start + 1; k < end - 1; k++) if (b[k] === BACKSLASH) return JSON.parse(strictUtf8.decode(b.subarray(start, end))) as string;
    return strictUtf8.decode(b.subarray(start + 1, end - 1));
  }
  if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return numberAt(b, start, end);
  if (c === 0x74) return true;
  if (c === 0x66) return false;
  if (c === 0x6e) return null;
  return PARSE;
}

/** Is `key` pure ASCII (compared byte for byte with the text)? */
function asciiKey(key: string): boolean {
  for (let k = 0; k < key.length; k++) if (key.charCodeAt(k) > 0x7e) return false;
  return true;
}

/**
 * The metadata of one event as its selector's proxy reads it: the stored bytes, a full parse when one is needed, and
 * the value that parse gave (kept: the event hands it on, so the text is parsed at most once). A consumer makes one
 * per event, as a class instance (one object, no closure per event).
 */
export interface MetadataSource {
  readonly bytes: Uint8Array;
  parse(): JsonValue;
  full: JsonValue | undefined;
}

const full = (t: MetadataSource): object => (t.full ??= t.parse()) as object;

const handler: ProxyHandler<MetadataSource> = {
  get(t, key) {
    if (t.full === undefined && typeof key === 'string' && asciiKey(key)) {
      const v = topLevelPrimitive(t.bytes, key);
      if (v !== PARSE) return v;
    }
    return Reflect.get(full(t), key);
  },
  has: (t, key) => Reflect.has(full(t), key),
  ownKeys: (t) => Reflect.ownKeys(full(t)),
  getOwnPropertyDescriptor: (t, key) => {
    const d = Reflect.getOwnPropertyDescriptor(full(t), key);
    // A proxy may only report a non-configurable property that its target has: report all as configurable.
    if (d) d.configurable = true;
    return d;
  },
  set: (t, key, value) => Reflect.set(full(t), key, value),
  deleteProperty: (t, key) => Reflect.deleteProperty(full(t), key),
  defineProperty: (t, key, d) => Reflect.defineProperty(full(t), key, d),
  getPrototypeOf: (t) => Reflect.getPrototypeOf(full(t)),
};

/**
 * The value a selector is given for the JSON object text `source.bytes`: a proxy reading fields from the text,
 * parsed by `source.parse()` only when needed (then `source.full` holds that value). Text that is not an object is
 * parsed at once (a proxy can only stand for an object).
 */
export function selectorMetadata(source: MetadataSource): JsonValue {
  const bytes = source.bytes;
  let i = 0;
  while (i < bytes.length && isWs(bytes[i])) i++;
  if (bytes[i] !== 0x7b) return (source.full = source.parse());
  return new Proxy(source, handler) as unknown as JsonValue;
}
