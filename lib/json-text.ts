// JSON text taken as it is (no parse + re-serialize): the bytes a producer stores when the caller already holds
// metadata as JSON text or UTF-8 bytes and nothing needs the parsed value. Stored metadata must parse on every
// reader, so the text is checked here, in one pass that builds no values (measured 2-4x faster than JSON.parse
// on the small objects metadata usually is; see docs/benchmarks.md).
import { isUtf8 } from 'node:buffer';
import { DiasporaError, ErrorCode } from './errors.js';

const enum C {
  TAB = 0x09, LF = 0x0a, CR = 0x0d, SPACE = 0x20, QUOTE = 0x22, PLUS = 0x2b, COMMA = 0x2c, MINUS = 0x2d,
  DOT = 0x2e, SLASH = 0x2f, D0 = 0x30, D1 = 0x31, D9 = 0x39, COLON = 0x3a, UPPER_E = 0x45, LBRACKET = 0x5b,
  BACKSLASH = 0x5c, RBRACKET = 0x5d, LOWER_E = 0x65, LBRACE = 0x7b, RBRACE = 0x7d,
}

// Containers open at a point of the scan; a typed stack, so deep nesting is neither recursion nor a limit.
const IN_ARRAY = 1;
const IN_OBJECT = 2;
/** Largest stack kept between calls (a deeply nested value once must not pin a big array). */
const MAX_KEPT_STACK = 4096;
let scanStack = new Uint8Array(32);

function bad(what: string, at: number): never {
  throw new DiasporaError(ErrorCode.BAD_JSON, `Invalid JSON metadata text: ${what} at byte ${at}`, { offset: at });
}

const isWs = (c: number): boolean => c === C.SPACE || c === C.LF || c === C.CR || c === C.TAB;

/** The index of the first non-whitespace byte at or after i (compact text: one compare). */
function skipWs(b: Uint8Array, i: number): number {
  const n = b.length;
  while (i < n && b[i]! <= C.SPACE && isWs(b[i]!)) i++;
  return i;
}

function hex4(b: Uint8Array, i: number): number {
  let v = 0;
  for (let k = 0; k < 4; k++) {
    const c = b[i + k];
    let d: number;
    if (c >= 0x30 && c <= 0x39) d = c - 0x30;
    else if (c >= 0x41 && c <= 0x46) d = c - 0x37;
    else if (c >= 0x61 && c <= 0x66) d = c - 0x57;
    else return -1; // also past the end (undefined)
    v = (v << 4) | d;
  }
  return v;
}

/** Scans a string starting after its opening quote; returns the index after the closing quote. */
function scanString(b: Uint8Array, i: number): number {
  for (;;) {
    const c = b[i]!;
    // The common case first, one compare each: a character above '"' that is not '\' (undefined past the end is not).
    if (c > C.QUOTE && c !== C.BACKSLASH) {
      i++;
      continue;
    }
    if (c === C.QUOTE) return i + 1;
    if (i >= b.length) bad('unterminated string', i);
    if (c < 0x20) bad('control character in string', i);
    if (c !== C.BACKSLASH) {
      i++; // ' ' or '!'
      continue;
    }
    const e = b[i + 1];
    if (e === 0x75 /* u */) {
      const u = hex4(b, i + 2);
      if (u < 0) bad('bad \\u escape', i);
      i += 6;
      // An escaped surrogate must be a pair: a lone one has no UTF-8 form, so the value would not survive a round trip.
      if (u >= 0xdc00 && u <= 0xdfff) bad('lone low surrogate escape', i - 6);
      if (u >= 0xd800 && u <= 0xdbff) {
        const low = b[i] === C.BACKSLASH && b[i + 1] === 0x75 ? hex4(b, i + 2) : -1;
        if (low < 0xdc00 || low > 0xdfff) bad('lone high surrogate escape', i - 6);
        i += 6;
      }
    } else if (e === C.QUOTE || e === C.BACKSLASH || e === C.SLASH || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) {
      i += 2;
    } else bad('bad escape', i);
  }
}

/**
 * The index after the string whose content starts at i. The plain run (no escape, no control character) is
 * scanned here, in a function small enough for the JIT to inline at both call sites of checkJsonSyntax (measured:
 * a quarter fewer instructions per check than calling scanString for every string); the rest goes to scanString.
 */
function endOfString(b: Uint8Array, i: number): number {
  let c = b[i]!;
  while (c > C.QUOTE && c !== C.BACKSLASH) c = b[++i]!;
  return c === C.QUOTE ? i + 1 : scanString(b, i);
}

function digits(b: Uint8Array, i: number): number {
  while (b[i] >= C.D0 && b[i] <= C.D9) i++;
  return i;
}

/** Scans a number; returns the index after it. A literal too large for a double (it would parse as Infinity) is refused. */
function scanNumber(b: Uint8Array, start: number): number {
  let i = start;
  if (b[i] === C.MINUS) i++;
  if (b[i] === C.D0) i++;
  else if (b[i] >= C.D1 && b[i] <= C.D9) i = digits(b, i + 1);
  else bad('bad number', i);
  const intEnd = i;
  if (b[i] === C.DOT) {
    const f = digits(b, i + 1);
    if (f === i + 1) bad('bad number fraction', i);
    i = f;
  }
  let exponent = false;
  if (b[i] === C.LOWER_E || b[i] === C.UPPER_E) {
    exponent = true;
    i++;
    if (b[i] === C.PLUS || b[i] === C.MINUS) i++;
    const e = digits(b, i);
    if (e === i) bad('bad number exponent', i);
    i = e;
  }
  // Only a literal with an exponent or over 300 integer digits can overflow a double: check those alone.
  if (exponent || intEnd - start > 300) {
    if (!Number.isFinite(Number(String.fromCharCode.apply(null, b.subarray(start, i) as unknown as number[])))) {
      bad('number out of range', start);
    }
  }
  return i;
}

function scanLiteral(b: Uint8Array, i: number, word: string): number {
  for (let k = 0; k < word.length; k++) if (b[i + k] !== word.charCodeAt(k)) bad('unexpected character', i);
  return i + word.length;
}

/** A member's key and its ':' at `i` (no whitespace before the key); returns the index after the ':'. */
function scanKey(b: Uint8Array, i: number): number {
  if (b[i] !== C.QUOTE) bad('expected a key', i);
  i = endOfString(b, i + 1);
  if (b[i] !== C.COLON) {
    i = skipWs(b, i);
    if (b[i] !== C.COLON) bad("expected ':'", i);
  }
  return i + 1;
}

/**
 * Checks that `b` is exactly one JSON value (RFC 8259, surrounding whitespace allowed) whose strings have no lone
 * surrogate escapes and whose numbers are finite. UTF-8 validity of bytes >= 0x80 is the caller's (see checkJsonBytes).
 * Throws a BAD_JSON DiasporaError naming the first bad byte.
 */
export function checkJsonSyntax(b: Uint8Array): void {
  const n = b.length;
  // The scan is synchronous and never re-entered, so one stack serves every call (no allocation per event).
  let stack = scanStack;
  let depth = 0;
  let i = 0;
  for (;;) {
    // A value is expected at i.
    i = skipWs(b, i);
    if (i >= n) bad('unexpected end', i);
    let c = b[i]!;
    if (c === C.LBRACE || c === C.LBRACKET) {
      if (depth === stack.length) {
        const grown = new Uint8Array(depth * 2);
        grown.set(stack);
        stack = grown;
        if (grown.length <= MAX_KEPT_STACK) scanStack = grown;
      }
      i = skipWs(b, i + 1);
      if (c === C.LBRACE) {
        stack[depth++] = IN_OBJECT;
        if (b[i] === C.RBRACE) {
          depth--;
          i++;
        } else {
          i = scanKey(b, i);
          continue;
        }
      } else {
        stack[depth++] = IN_ARRAY;
        if (b[i] === C.RBRACKET) {
          depth--;
          i++;
        } else continue;
      }
    } else if (c === C.QUOTE) i = endOfString(b, i + 1);
    else if (c >= C.D1 && c <= C.D9) {
      // A short integer, the common number, is scanned here; anything else goes through scanNumber.
      const end = digits(b, i + 1);
      const next = b[end];
      i = next === C.DOT || next === C.LOWER_E || next === C.UPPER_E || end - i > 300 ? scanNumber(b, i) : end;
    } else if (c === C.MINUS || c === C.D0) i = scanNumber(b, i);
    else if (c === 0x74) i = scanLiteral(b, i, 'true');
    else if (c === 0x66) i = scanLiteral(b, i, 'false');
    else if (c === 0x6e) i = scanLiteral(b, i, 'null');
    else bad('unexpected character', i);
    // After a value: close containers, or go on to the next element or member.
    for (;;) {
      i = skipWs(b, i);
      if (depth === 0) {
        if (i !== n) bad('unexpected text after the value', i);
        return;
      }
      c = b[i];
      const top = stack[depth - 1];
      if (c === C.COMMA) {
        i++;
        if (top === IN_OBJECT) i = scanKey(b, skipWs(b, i));
        break;
      }
      if ((top === IN_OBJECT && c === C.RBRACE) || (top === IN_ARRAY && c === C.RBRACKET)) {
        depth--;
        i++;
        continue;
      }
      bad(i >= n ? 'unexpected end' : top === IN_OBJECT ? "expected ',' or '}'" : "expected ',' or ']'", i);
    }
  }
}

/** Whether `bytes` hold JSON text that checkJsonSyntax accepts (UTF-8 validity is not looked at). */
export function isJsonSyntax(bytes: Uint8Array): boolean {
  try {
    checkJsonSyntax(bytes);
    return true;
  } catch {
    return false;
  }
}

/** Checks UTF-8 JSON bytes (see checkJsonSyntax); invalid UTF-8 is BAD_JSON too. */
export function checkJsonBytes(bytes: Uint8Array): void {
  checkJsonSyntax(bytes);
  if (!isUtf8(bytes)) {
    throw new DiasporaError(ErrorCode.BAD_JSON, 'Invalid JSON metadata text: invalid UTF-8');
  }
}

