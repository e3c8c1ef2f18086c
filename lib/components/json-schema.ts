// JSON Schema (draft 7) checking shared by the schema validator and the schema serializer, backed by Ajv.
import { createRequire } from 'node:module';
import type { ErrorObject, Options, ValidateFunction } from 'ajv';
import { DiasporaError, ErrorCode } from '../errors.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../json.js';

type AjvClass = new (options?: Options) => { compile(schema: object | boolean): ValidateFunction };
let ajvClass: AjvClass | undefined;
/** Ajv (about 60 modules, 50 ms) is loaded on the first schema, not by every process that imports the library. */
function Ajv(): AjvClass {
  if (ajvClass) return ajvClass;
  // ajv is CommonJS: the module object holds the class as `default` (and is the class itself in older versions).
  const mod = createRequire(import.meta.url)('ajv') as { default?: AjvClass };
  return (ajvClass = mod.default ?? (mod as unknown as AjvClass));
}

/** Returns the list of violations of `value` (empty when it complies). */
export type JsonSchemaCheck = (value: JsonValue) => string[];

/**
 * Compiles `schema` once. An invalid schema is a BAD_CONFIG error naming `owner` (not a raw Ajv error).
 * Options: every error is collected; unknown keywords are ignored and `format` is not asserted, as draft 7 allows.
 */
export function compileJsonSchema(schema: JsonValue, owner: string): JsonSchemaCheck {
  if (typeof schema !== 'boolean' && (typeof schema !== 'object' || schema === null || Array.isArray(schema))) {
    throw new DiasporaError(ErrorCode.BAD_CONFIG, `Invalid JSON schema for ${owner}: a schema must be an object or a boolean`);
  }
  let validate: ValidateFunction;
  try {
    // A fresh Ajv per schema: two schemas carrying the same $id must not collide in a shared cache.
    const ajv = new (Ajv())({ allErrors: true, verbose: true, strict: false, validateFormats: false });
    validate = ajv.compile(schema);
  } catch (err) {
    throw new DiasporaError(ErrorCode.BAD_CONFIG, `Invalid JSON schema for ${owner}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return (value: JsonValue): string[] => {
    if (validate(value)) return [];
    return (validate.errors ?? []).map(formatSchemaError);
  };
}

/** `'<json-pointer>' - '<instance>': <message>`, the reference's wording of one violation. */
function formatSchemaError(err: ErrorObject): string {
  let instance: string;
  try {
    instance = JSON.stringify(err.data) ?? 'undefined';
  } catch {
    instance = String(err.data);
  }
  return `'${err.instancePath}' - '${instance}': ${err.message ?? err.keyword}`;
}

/**
 * Reads the `{type: "schema", schema: <JSON schema>}` config shared by the schema validator and serializer:
 * BAD_CONFIG (with the reference's messages) when it is not an object or has no schema.
 */
export function readSchemaConfig(config: JsonObject, owner: string): { config: JsonObject; check: JsonSchemaCheck } {
  if (!isJsonObject(config)) throw new DiasporaError(ErrorCode.BAD_CONFIG, 'Provided Metadata is not a JSON object');
  if (!Object.hasOwn(config, 'schema')) {
    throw new DiasporaError(ErrorCode.BAD_CONFIG, `${owner} is expecting a "schema" entry in its configuration`);
  }
  return { check: compileJsonSchema(config.schema, owner), config: structuredClone({ ...config, type: config.type ?? 'schema' }) };
}
