// Eventbridge patterns (an AWS-EventBridge-like matcher), compiled once into closures.
// Semantics and the reference bugs fixed here are listed in docs/readme/components.md.
import { DiasporaError, ErrorCode } from '../errors.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../json.js';

/** Matches one container (object) of the metadata; `undefined` stands for a missing object. */
type ObjectMatcher = (container: JsonValue | undefined) => boolean;
/** Matches the value found under a key; `undefined` means the key is missing. */
type FieldMatcher = (value: JsonValue | undefined) => boolean;
/** Matches one present, non-array value (arrays are expanded element by element before). */
type ValueMatcher = (value: JsonValue) => boolean;

/**
 * Compiles an eventbridge pattern into a predicate over metadata.
 * Throws DiasporaError BAD_CONFIG (with the reference's messages) when the pattern is malformed.
 */
export function compileEventbridgePattern(pattern: JsonValue): (metadata: JsonValue) => boolean {
  const matcher = compileObjectPattern(pattern);
  return (metadata: JsonValue) => applyToObject(metadata, matcher);
}

function badPattern(message: string): DiasporaError {
  return new DiasporaError(ErrorCode.BAD_CONFIG, message);
}

function isPrimitive(v: unknown): v is string | number | boolean | null {
  return v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}

function lookup(container: JsonValue | undefined, key: string): JsonValue | undefined {
  return isJsonObject(container) && Object.hasOwn(container, key) ? container[key] : undefined;
}

/** True if `value` or, for arrays, any (nested) element satisfies `pred` (AWS matches arrays element by element). */
function anyLeaf(value: JsonValue, pred: ValueMatcher): boolean {
  if (!Array.isArray(value)) return pred(value);
  for (const element of value) if (anyLeaf(element, pred)) return true;
  return false;
}

/** Applies an object pattern to a value: arrays are expanded, an empty array counts as a missing object. */
function applyToObject(value: JsonValue | undefined, matcher: ObjectMatcher): boolean {
  if (!Array.isArray(value)) return matcher(value);
  if (value.length === 0) return matcher(undefined);
  for (const element of value) if (applyToObject(element, matcher)) return true;
  return false;
}

function allOf(matchers: ObjectMatcher[]): ObjectMatcher {
  if (matchers.length === 0) return () => true;
  if (matchers.length === 1) return matchers[0]!;
  return (container) => {
    for (const m of matchers) if (!m(container)) return false;
    return true;
  };
}

function compileObjectPattern(pattern: JsonValue): ObjectMatcher {
  if (!isJsonObject(pattern)) throw badPattern('Invalid Eventbridge pattern: expected object');
  const conditions: ObjectMatcher[] = [];
  for (const key of Object.keys(pattern)) {
    const value = pattern[key] as JsonValue;
    if (key === '$or') {
      // Accepted at any object level, including the top (the reference only allowed it inside a rule list).
      conditions.push(compileOr(value));
    } else {
      conditions.push(compilePath(key.split('.'), compileField(value)));
    }
  }
  return allOf(conditions);
}

/** `"a.b.c": X` behaves exactly like `{"a": {"b": {"c": X}}}`. */
function compilePath(path: string[], field: FieldMatcher): ObjectMatcher {
  const key = path[0]!;
  if (path.length === 1) return (container) => field(lookup(container, key));
  const inner = compilePath(path.slice(1), field);
  return (container) => applyToObject(lookup(container, key), inner);
}

function compileField(value: JsonValue): FieldMatcher {
  if (isPrimitive(value)) {
    const expected = value;
    return (v) => v === expected || (Array.isArray(v) && anyLeaf(v, (e) => e === expected));
  }
  if (isJsonObject(value)) {
    const inner = compileObjectPattern(value);
    return (v) => applyToObject(v, inner);
  }
  if (!Array.isArray(value)) throw badPattern('Invalid Eventbridge pattern: expected object or primitive');
  let hasPrimitives = false;
  let hasObjects = false;
  for (const element of value) {
    if (isPrimitive(element)) hasPrimitives = true;
    else if (isJsonObject(element)) {
      hasObjects = true;
      if (Object.keys(element).length !== 1) {
        throw badPattern('Invalid Eventbridge pattern: each rule can only have one statement');
      }
    } else throw badPattern('Invalid Eventbridge pattern: expected object or primitive');
    if (hasPrimitives && hasObjects) {
      throw badPattern('Invalid Eventbridge pattern: cannot mix primitives with complex conditions');
    }
  }
  if (value.length === 0) throw badPattern('Invalid Eventbridge pattern: an empty list of values never matches');
  if (hasPrimitives) {
    const allowed = new Set<JsonValue>(value);
    const member: ValueMatcher = (e) => allowed.has(e);
    return (v) => v !== undefined && anyLeaf(v, member);
  }
  const alternatives = (value as JsonObject[]).map(compileRuleField);
  if (alternatives.length === 1) return alternatives[0]!;
  return (v) => {
    for (const alt of alternatives) if (alt(v)) return true;
    return false;
  };
}

/** One rule of a rule list; `exists` looks at presence, every other rule at the (present) value. */
function compileRuleField(rule: JsonObject): FieldMatcher {
  if (Object.hasOwn(rule, 'exists')) {
    const shouldExist = rule.exists;
    if (typeof shouldExist !== 'boolean') {
      throw badPattern('Invalid Eventbridge "exists" rule: expected boolean value');
    }
    return shouldExist ? (v) => v !== undefined : (v) => v === undefined;
  }
  const matcher = compileRule(rule);
  return (v) => v !== undefined && anyLeaf(v, matcher);
}

function compileRule(rule: JsonObject): ValueMatcher {
  const keys = Object.keys(rule);
  if (keys.length !== 1) throw badPattern('Invalid Eventbridge pattern: each rule can only have one statement');
  const operand = rule[keys[0]!] as JsonValue;
  switch (keys[0]) {
    case 'anything-but':
      return compileAnythingBut(operand);
    case 'prefix':
      return compilePrefixOrSuffix(operand, 'prefix');
    case 'suffix':
      return compilePrefixOrSuffix(operand, 'suffix');
    case 'equals-ignore-case':
      return compileEqualsIgnoreCase(operand);
    case 'numeric':
      return compileNumeric(operand);
    case 'wildcard':
      return compileWildcard(operand);
    case '$or':
      return compileOr(operand);
    default:
      throw badPattern(`Invalid Eventbridge pattern: unexpected rule: ${JSON.stringify(rule)}`);
  }
}

function compileAnythingBut(operand: JsonValue): ValueMatcher {
  if (isPrimitive(operand)) return (e) => e !== operand;
  if (Array.isArray(operand)) {
    if (!operand.every(isPrimitive)) {
      throw badPattern('Invalid Eventbridge "anything-but" rule: list should contain only primitive types');
    }
    const excluded = new Set<JsonValue>(operand);
    return (e) => !excluded.has(e);
  }
  if (isJsonObject(operand)) {
    const inner = compileRule(operand);
    return (e) => !inner(e);
  }
  throw badPattern('Invalid Eventbridge "anything-but" rule: expected a primitive, a list of primitives or a rule');
}

function compilePrefixOrSuffix(operand: JsonValue, rule: 'prefix' | 'suffix'): ValueMatcher {
  let ignoreCase = false;
  let affixes: string[];
  if (typeof operand === 'string') {
    affixes = [operand];
  } else if (Array.isArray(operand)) {
    if (!operand.every((s) => typeof s === 'string')) {
      throw badPattern(`Invalid Eventbridge "${rule}" rule: list of prefixes should contain only strings`);
    }
    affixes = operand as string[];
  } else if (isJsonObject(operand)) {
    const keys = Object.keys(operand);
    if (keys.length !== 1 || keys[0] !== 'equals-ignore-case') {
      throw badPattern(`Invalid Eventbridge "${rule}" rule: only "equals-ignore-case" is allowed as sub-pattern`);
    }
    ignoreCase = true;
    const inner = operand['equals-ignore-case'];
    if (typeof inner === 'string') affixes = [inner.toLowerCase()];
    else if (Array.isArray(inner)) {
      if (!inner.every((s) => typeof s === 'string')) {
        throw badPattern(
          `Invalid Eventbridge "${rule}" rule: list in "equals-ignore-case" should contain only strings`,
        );
      }
      affixes = (inner as string[]).map((s) => s.toLowerCase());
    } else {
      throw badPattern(
        `Invalid Eventbridge "${rule}" rule: "equals-ignore-case" should be a string or a list of strings`,
      );
    }
  } else {
    throw badPattern(`Invalid Eventbridge "${rule}" rule: pattern should be a string, a list, or an object`);
  }
  if (affixes.length === 0) throw badPattern(`Invalid Eventbridge "${rule}" rule: an empty list never matches`);
  const test =
    rule === 'prefix' ? (s: string, a: string) => s.startsWith(a) : (s: string, a: string) => s.endsWith(a);
  return (e) => {
    if (typeof e !== 'string') return false;
    const s = ignoreCase ? e.toLowerCase() : e;
    for (const a of affixes) if (test(s, a)) return true;
    return false;
  };
}

function compileEqualsIgnoreCase(operand: JsonValue): ValueMatcher {
  let values: string[];
  if (typeof operand === 'string') values = [operand];
  else if (Array.isArray(operand)) {
    if (!operand.every((s) => typeof s === 'string')) {
      throw badPattern('Invalid Eventbridge "equals-ignore-case" rule: list should contain only strings');
    }
    values = operand as string[];
  } else {
    throw badPattern('Invalid Eventbridge "equals-ignore-case" rule: pattern should be a string or a list of strings');
  }
  if (values.length === 0) {
    throw badPattern('Invalid Eventbridge "equals-ignore-case" rule: an empty list never matches');
  }
  const lowered = new Set(values.map((s) => s.toLowerCase()));
  return (e) => typeof e === 'string' && lowered.has(e.toLowerCase());
}

const numericOperators: Record<string, (x: number, bound: number) => boolean> = {
  '=': (x, b) => x === b,
  '>': (x, b) => x > b,
  '>=': (x, b) => x >= b,
  '<': (x, b) => x < b,
  '<=': (x, b) => x <= b,
};

function compileNumeric(operand: JsonValue): ValueMatcher {
  // The reference wrote this check with && instead of ||, reading past the end of odd-length lists.
  if (!Array.isArray(operand) || operand.length % 2 !== 0) {
    throw badPattern('Invalid Eventbridge "numeric" rule: pattern should be a list of even number of elements');
  }
  if (operand.length === 0) throw badPattern('Invalid Eventbridge "numeric" rule: pattern should not be empty');
  const tests: Array<(x: number, bound: number) => boolean> = [];
  const bounds: number[] = [];
  for (let i = 0; i < operand.length; i += 2) {
    const op = operand[i];
    const bound = operand[i + 1];
    if (typeof op !== 'string') throw badPattern('Invalid Eventbridge "numeric" rule: operator should be a string');
    if (typeof bound !== 'number' || !Number.isFinite(bound)) {
      throw badPattern('Invalid Eventbridge "numeric" rule: operand should be a number');
    }
    const test = Object.hasOwn(numericOperators, op) ? numericOperators[op] : undefined;
    if (test === undefined) throw badPattern(`Invalid Eventbridge "numeric" rule: unknown operator "${op}"`);
    tests.push(test);
    bounds.push(bound);
  }
  return (e) => {
    if (typeof e !== 'number') return false;
    for (let i = 0; i < tests.length; i++) if (!tests[i]!(e, bounds[i]!)) return false;
    return true;
  };
}

function compileOr(operand: JsonValue): ObjectMatcher & ValueMatcher {
  if (!Array.isArray(operand) || !operand.every(isJsonObject)) {
    throw badPattern('Invalid Eventbridge "$or" rule: pattern should be a list of objects');
  }
  if (operand.length === 0) throw badPattern('Invalid Eventbridge "$or" rule: pattern should not be empty');
  const alternatives = operand.map(compileObjectPattern);
  return (value: JsonValue | undefined) => {
    for (const alt of alternatives) if (alt(value)) return true;
    return false;
  };
}

/**
 * Whole-string match where only `*` is special (any run of characters, possibly empty). `\*` is a literal star
 * and `\\` a literal backslash (the reference built an unescaped regular expression, so "a.c" matched "abc").
 */
function compileWildcard(operand: JsonValue): ValueMatcher {
  if (typeof operand !== 'string') throw badPattern('Invalid Eventbridge "wildcard" rule: pattern should be a string');
  const segments: string[] = [];
  let current = '';
  for (let i = 0; i < operand.length; i++) {
    const c = operand[i]!;
    if (c === '\\' && (operand[i + 1] === '*' || operand[i + 1] === '\\')) {
      current += operand[++i];
    } else if (c === '*') {
      segments.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  segments.push(current);
  if (segments.length === 1) {
    const literal = segments[0]!;
    return (e) => e === literal;
  }
  const head = segments[0]!;
  const tail = segments[segments.length - 1]!;
  const middle = segments.slice(1, -1).filter((s) => s.length > 0);
  const minLength = head.length + tail.length;
  // Greedy leftmost search of each middle segment is exact for this glob form, and linear (no regex backtracking).
  return (e) => {
    if (typeof e !== 'string' || e.length < minLength || !e.startsWith(head) || !e.endsWith(tail)) return false;
    let pos = head.length;
    const end = e.length - tail.length;
    for (const segment of middle) {
      const at = e.indexOf(segment, pos);
      if (at < 0 || at + segment.length > end) return false;
      pos = at + segment.length;
    }
    return true;
  };
}
