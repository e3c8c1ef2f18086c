// Metadata given as a JS value must be exactly what JSON can say: JSON.stringify would otherwise turn NaN and
// Infinity into null, drop undefined/function/symbol members and escape lone surrogates, so the stored event would
// differ from the pushed one without any error. Runs per pushed event: one pass, no allocation unless it fails.

import { types } from 'node:util';

type WellFormed = string & { isWellFormed(): boolean };

// Deeper than this is left to JSON.stringify, which reports cycles itself (this walk must not overflow first).
const MAX_DEPTH = 512;

/**
 * What a built-in object JSON.stringify would store as something else is (a Map or Set as {}, a typed array as
 * {"0":..}, an ArrayBuffer as {}), or undefined. Only objects that are not plain get here (one prototype check).
 */
function notJsonObject(o: object): string | undefined {
  if (types.isMap(o) || types.isWeakMap(o)) return 'a Map';
  if (types.isSet(o) || types.isWeakSet(o)) return 'a Set';
  if (types.isAnyArrayBuffer(o)) return 'an ArrayBuffer (JSON text as bytes is pushed as a Uint8Array)';
  if (types.isArrayBufferView(o)) return `a ${(o as { constructor?: { name?: string } }).constructor?.name ?? 'typed array'}`;
  if (types.isSymbolObject(o) || types.isBigIntObject(o)) return 'a boxed symbol or bigint';
  if (types.isRegExp(o)) return 'a RegExp';
  if (types.isPromise(o)) return 'a Promise';
  if (types.isNativeError(o)) return 'an Error';
  return undefined;
}

/** The primitive inside a boxed Number, String or Boolean (JSON.stringify unboxes them), else undefined. */
function unboxed(o: object): number | string | boolean | undefined {
  if (types.isNumberObject(o)) return Number.prototype.valueOf.call(o);
  if (types.isStringObject(o)) return String.prototype.valueOf.call(o);
  if (types.isBooleanObject(o)) return Boolean.prototype.valueOf.call(o);
  return undefined;
}

const isPlain = (o: object): boolean => {
  const proto = Object.getPrototypeOf(o);
  return proto === Object.prototype || proto === null;
};

function exact(v: unknown, depth: number): boolean {
  switch (typeof v) {
    case 'string':
      return (v as WellFormed).isWellFormed();
    case 'number':
      return v - v === 0; // false for NaN and +-Infinity
    case 'boolean':
      return true;
    case 'object': {
      if (v === null || depth > MAX_DEPTH) return true;
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) if (!exact(v[i], depth + 1)) return false;
        return true;
      }
      // A toJSON method (Date, ...) decides its own representation, as in JSON.stringify.
      if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return true;
      if (!isPlain(v)) {
        const inner = unboxed(v);
        if (inner !== undefined) return exact(inner, depth);
        if (notJsonObject(v) !== undefined) return false;
      }
      const o = v as Record<string, unknown>;
      for (const k in o) {
        if (!Object.prototype.hasOwnProperty.call(o, k)) continue;
        if (!(k as WellFormed).isWellFormed() || !exact(o[k], depth + 1)) return false;
      }
      return true;
    }
    default:
      return false; // undefined, function, symbol, bigint
  }
}

/** Where the first value JSON cannot represent exactly is, and what it is (only run once a check failed). */
function findInexact(v: unknown, path: string, depth: number): string | undefined {
  if (exact(v, depth)) return undefined;
  switch (typeof v) {
    case 'string':
      return `${path} is a string with a lone surrogate (not well-formed Unicode)`;
    case 'number':
      return `${path} is ${v}`;
    case 'object': {
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) {
          const found = findInexact(v[i], `${path}[${i}]`, depth + 1);
          if (found) return found;
        }
        return undefined;
      }
      const inner = unboxed(v as object);
      if (inner !== undefined) return findInexact(inner, path, depth);
      const what = notJsonObject(v as object);
      if (what !== undefined) return `${path} is ${what}`;
      const o = v as Record<string, unknown>;
      for (const k in o) {
        if (!Object.prototype.hasOwnProperty.call(o, k)) continue;
        if (!(k as WellFormed).isWellFormed()) return `${path} has a key with a lone surrogate (not well-formed Unicode)`;
        const found = findInexact(o[k], `${path}${/^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`}`, depth + 1);
        if (found) return found;
      }
      return undefined;
    }
    default:
      return `${path} is ${v === undefined ? 'undefined' : `a ${typeof v}`}`;
  }
}

/**
 * Throws a TypeError naming the first value that JSON cannot represent exactly: NaN, +-Infinity, undefined, a
 * function, a symbol, a bigint, a string or key with a lone surrogate, a Map, Set, ArrayBuffer or typed array (stored
 * as {} or an object of indices), a boxed primitive holding one of those values. -0 passes: JSON has no -0, it is 0.
 */
export function checkExactJson(value: unknown, what = 'metadata'): void {
  if (exact(value, 0)) return;
  throw new TypeError(`${what} cannot be stored as JSON exactly: ${findInexact(value, what, 0) ?? 'unsupported value'}`);
}

/** True for a string that is well-formed Unicode (no lone surrogate): names are stored as UTF-8. */
export function isWellFormedString(s: string): boolean {
  return (s as WellFormed).isWellFormed();
}
