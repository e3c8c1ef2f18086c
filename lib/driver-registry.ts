// Registry of drivers by name ("files", "memory", ...). A name of the form "name:module" imports the module
// (which registers `name` when loaded) before looking the name up, like the reference's "name:library.so".

import type { DriverBackend, MaybePromise } from './backend.js';
import { DiasporaError, ErrorCode } from './errors.js';
import { importPluginModule } from './plugin-module.js';
import type { JsonObject } from './json.js';

export type DriverFactory = (options: JsonObject) => MaybePromise<DriverBackend>;

const factories = new Map<string, DriverFactory>();

/** Registers (or replaces: the last registration wins) the driver `name`. */
export function registerDriver(name: string, factory: DriverFactory): void {
  // A name with ':' could never be looked up: "name:module" is how a plugin is named.
  if (typeof name !== 'string' || name.length === 0 || name.includes(':')) {
    throw new TypeError(`driver name must be a non-empty string without ":", got ${JSON.stringify(name)}`);
  }
  if (typeof factory !== 'function') throw new TypeError('driver factory must be a function');
  factories.set(name, factory);
}

export function registeredDrivers(): string[] {
  return [...factories.keys()];
}

export async function resolveDriverFactory(type: string): Promise<DriverFactory> {
  if (typeof type !== 'string' || type.length === 0) throw new TypeError('driver type must be a non-empty string');
  const colon = type.indexOf(':');
  const name = colon < 0 ? type : type.slice(0, colon);
  // "files:" must not be taken for "files" (nor ":x" for anything): the type is a name, or "name:module".
  if (colon >= 0 && (colon === 0 || colon === type.length - 1)) {
    throw new DiasporaError(ErrorCode.BAD_CONFIG, `Invalid driver type ${JSON.stringify(type)} (expected "name" or "name:module")`, { type });
  }
  if (!factories.has(name) && colon >= 0) {
    const spec = type.slice(colon + 1);
    let mod: unknown;
    try {
      mod = await importPluginModule(spec);
    } catch (err) {
      throw new DiasporaError(ErrorCode.UNKNOWN_DRIVER, `Could not import driver module ${spec}: ${(err as Error).message}`, { cause: err });
    }
    const dflt = (mod as { default?: unknown }).default;
    if (!factories.has(name) && typeof dflt === 'function') factories.set(name, dflt as DriverFactory);
  }
  const f = factories.get(name);
  if (!f) {
    throw new DiasporaError(ErrorCode.UNKNOWN_DRIVER, `Unknown driver "${name}" (known: ${registeredDrivers().join(', ')})`);
  }
  return f;
}
