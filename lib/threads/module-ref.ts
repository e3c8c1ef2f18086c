// ModuleRef: work named by module instead of passed as a closure, so that a worker thread can load it itself.
// `{ module: './filters.js', export: 'energetic' }` names the function exported as `energetic` by that module
// (the `default` export when `export` is omitted). Modules resolve as component plugins do (lib/plugin-module.ts).

import { DiasporaError, ErrorCode } from '../errors.js';
import { importPluginModule } from '../plugin-module.js';

export interface ModuleRef {
  /** A path (absolute, or relative to process.cwd()), a `file:` URL or a package name. */
  readonly module: string | URL;
  /** The exported function's name; default `'default'`. */
  readonly export?: string;
}

/** The form sent to a worker (a URL becomes its href). */
export interface ModuleRefSpec {
  module: string;
  export: string;
}

/** True for `{ module, export? }` objects (not functions). */
export function isModuleRef(value: unknown): value is ModuleRef {
  return typeof value === 'object' && value !== null && 'module' in value;
}

/** Validates the shape of a ModuleRef (TypeError for wrong types) and returns its cloneable form. */
export function moduleRefSpec(ref: ModuleRef, what: string): ModuleRefSpec {
  const m = ref.module;
  const mod = m instanceof URL ? m.href : m;
  if (typeof mod !== 'string' || mod.length === 0) throw new TypeError(`${what}.module must be a non-empty string or a URL`);
  const name = ref.export ?? 'default';
  if (typeof name !== 'string' || name.length === 0) throw new TypeError(`${what}.export must be a non-empty string`);
  for (const key of Object.keys(ref)) {
    if (key !== 'module' && key !== 'export') throw new TypeError(`${what}: unknown key "${key}" (expected module, export)`);
  }
  return { module: mod, export: name };
}

/** Imports the module and returns the named function; BAD_CONFIG if it cannot be loaded or is not a function. */
export async function loadModuleFunction<F extends (...args: never[]) => unknown>(spec: ModuleRefSpec, what: string): Promise<F> {
  let mod: Record<string, unknown>;
  try {
    mod = await importPluginModule(spec.module);
  } catch (err) {
    throw new DiasporaError(ErrorCode.BAD_CONFIG, `${what}: cannot load module "${spec.module}": ${(err as Error).message}`, {
      cause: err,
    });
  }
  const fn = mod[spec.export];
  if (typeof fn !== 'function') {
    throw new DiasporaError(ErrorCode.BAD_CONFIG, `${what}: module "${spec.module}" has no function export "${spec.export}"`);
  }
  return fn as F;
}
