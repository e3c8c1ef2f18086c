// Metadata given as a JS value must be exactly what JSON can say: JSON.stringify would otherwise turn NaN and
// Infinity into null, drop undefined/function/symbol members and escape lone surrogates, so the stored event would
// differ from the pushed one without any error. Runs per pushed event: one pass, no allocation unless it fails.

type WellFormed = string & { isWellFormed(): boolean };

// Deeper than this is left to JSON.stringify, which reports cycles itself (this walk must not overflow first).
const MAX_DEPTH = 512;

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
 * function, a symbol, a bigint, or a string or key with a lone surrogate.
 */
export function checkExactJson(value: unknown, what = 'metadata'): void {
  if (exact(value, 0)) return;
  throw new TypeError(`${what} cannot be stored as JSON exactly: ${findInexact(value, what, 0) ?? 'unsupported value'}`);
}

/** True for a string that is well-formed Unicode (no lone surrogate): names are stored as UTF-8. */
export function isWellFormedString(s: string): boolean {
  return (s as WellFormed).isWellFormed();
}
