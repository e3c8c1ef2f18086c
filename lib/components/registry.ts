// Component registry: validators, serializers and partition selectors are built by name from their configuration.
import { DiasporaError, ErrorCode } from '../errors.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../json.js';
import { EventbridgeValidator } from './eventbridge-validator.js';
import { importPluginModule } from '../plugin-module.js';
import { DefaultPartitionSelector, isPartitionSelector, type PartitionSelector } from './partition-selector.js';
import { SchemaSerializer } from './schema-serializer.js';
import { SchemaValidator } from './schema-validator.js';
import { DefaultSerializer, isSerializer, type Serializer } from './serializer.js';
import { DefaultValidator, isValidator, type Validator } from './validator.js';

export type ComponentKind = 'validator' | 'serializer' | 'partition-selector';

type Factory<T> = (config: JsonObject) => T;

interface Registry<T> {
  /** Word used in messages, as the reference spells it. */
  readonly label: string;
  readonly factories: Map<string, Factory<T>>;
  readonly conforms: (value: unknown) => value is T;
}

const validators: Registry<Validator> = { label: 'Validator', factories: new Map(), conforms: isValidator };
const serializers: Registry<Serializer> = { label: 'Serializer', factories: new Map(), conforms: isSerializer };
const partitionSelectors: Registry<PartitionSelector> = {
  label: 'PartitionSelector',
  factories: new Map(),
  conforms: isPartitionSelector,
};
const registries = {
  validator: validators,
  serializer: serializers,
  'partition-selector': partitionSelectors,
} as const;

function register<T>(registry: Registry<T>, name: string, factory: Factory<T>): void {
  if (typeof name !== 'string' || name.length === 0 || name.includes(':')) {
    throw new TypeError(`${registry.label} name must be a non-empty string without ":", got ${JSON.stringify(name)}`);
  }
  if (typeof factory !== 'function') throw new TypeError(`${registry.label} factory must be a function`);
  registry.factories.set(name, factory); // the last registration of a name wins, as in the reference
}

export function registerValidator(name: string, factory: (config: JsonObject) => Validator): void {
  register(validators, name, factory);
}

export function registerSerializer(name: string, factory: (config: JsonObject) => Serializer): void {
  register(serializers, name, factory);
}

export function registerPartitionSelector(name: string, factory: (config: JsonObject) => PartitionSelector): void {
  register(partitionSelectors, name, factory);
}

/** Names currently registered for a kind, sorted. */
export function registeredComponents(kind: ComponentKind): string[] {
  const registry = registries[kind];
  if (registry === undefined) throw new TypeError(`unknown component kind ${JSON.stringify(kind)}`);
  return [...registry.factories.keys()].sort();
}

// The built-in factories, and the config keys each one reads (createTopic refuses others: a typo must not pass).
const typeOnly = ['type'] as const;
const withSchema = ['type', 'schema'] as const;
const builtins = new Map<Factory<unknown>, readonly string[]>();
function builtin<T>(factory: Factory<T>, keys: readonly string[]): Factory<T> {
  builtins.set(factory, keys);
  return factory;
}
registerValidator('default', builtin(() => new DefaultValidator(), typeOnly));
registerValidator('schema', builtin((config) => new SchemaValidator(config), withSchema));
registerValidator('eventbridge', builtin((config) => new EventbridgeValidator(config), withSchema));
registerSerializer('default', builtin(() => new DefaultSerializer(), typeOnly));
registerSerializer('schema', builtin((config) => new SchemaSerializer(config), withSchema));
registerPartitionSelector('default', builtin(() => new DefaultPartitionSelector(), typeOnly));

/**
 * The config keys the component registered as `type` reads, when it is a built-in one (undefined for a custom
 * component, or a built-in name registered again: those get their whole config and check it themselves).
 * Persisted configs are rebuilt leniently (`...FromMetadata`); new ones are checked against this in createTopic.
 */
export function builtinConfigKeys(kind: ComponentKind, type: string): readonly string[] | undefined {
  const factory = registries[kind]?.factories.get(type) as Factory<unknown> | undefined;
  return factory === undefined ? undefined : builtins.get(factory);
}

/** Finds the factory for `type`, importing the module of a "name:module-path" type when the name is unknown. */
async function resolveFactory<T>(registry: Registry<T>, type: string): Promise<Factory<T>> {
  const colon = type.indexOf(':');
  const name = colon < 0 ? type : type.slice(0, colon);
  const known = registry.factories.get(name);
  if (known !== undefined) return known;
  if (colon < 0) {
    throw new DiasporaError(
      ErrorCode.UNKNOWN_COMPONENT,
      `Unknown ${registry.label} type "${type}" (registered: ${[...registry.factories.keys()].sort().join(', ')}); ` +
        'a custom one can be given as "name:module-path"',
      { type },
    );
  }
  const modulePath = type.slice(colon + 1);
  if (name.length === 0 || modulePath.length === 0) {
    throw new DiasporaError(
      ErrorCode.BAD_CONFIG,
      `Cannot create ${registry.label} from Metadata: invalid "type" field "${type}" (expected "name" or "name:module-path")`,
      { type },
    );
  }
  let loaded: Record<string, unknown>;
  try {
    loaded = await importPluginModule(modulePath);
  } catch (err) {
    throw new DiasporaError(
      ErrorCode.UNKNOWN_COMPONENT,
      `Could not import module "${modulePath}" for ${registry.label} "${name}": ${(err as Error)?.message ?? err}`,
      { type, cause: err },
    );
  }
  // Importing normally registers the name; a module may instead export its factory as default.
  if (!registry.factories.has(name) && typeof loaded.default === 'function') {
    register(registry, name, loaded.default as Factory<T>);
  }
  const factory = registry.factories.get(name);
  if (factory === undefined) {
    throw new DiasporaError(
      ErrorCode.UNKNOWN_COMPONENT,
      `Factory method not found for type ${name}: module "${modulePath}" neither registered ${registry.label} ` +
        `"${name}" nor exported a default factory`,
      { type },
    );
  }
  return factory;
}

async function fromMetadata<T>(registry: Registry<T>, config: JsonValue | undefined): Promise<T> {
  const label = registry.label;
  if (config === undefined) config = {};
  if (!isJsonObject(config)) {
    throw new DiasporaError(
      ErrorCode.BAD_CONFIG,
      `Cannot create ${label} from Metadata: invalid Metadata (expected JSON object)`,
    );
  }
  const type = config.type === undefined ? 'default' : config.type;
  if (typeof type !== 'string') {
    throw new DiasporaError(
      ErrorCode.BAD_CONFIG,
      `Cannot create ${label} from Metadata: invalid "type" field in Metadata (expected string)`,
    );
  }
  const factory = await resolveFactory(registry, type);
  let component: unknown;
  try {
    component = await factory(config);
  } catch (err) {
    if (err instanceof DiasporaError || err instanceof TypeError) throw err;
    throw new DiasporaError(
      ErrorCode.BAD_CONFIG,
      `Could not create ${label} "${type}": ${(err as Error)?.message ?? err}`,
      { type, cause: err },
    );
  }
  if (!registry.conforms(component)) {
    throw new TypeError(`The factory of ${label} "${type}" returned a value that does not implement ${label}`);
  }
  return component;
}

/**
 * Builds a validator from its configuration (`{type?: string, ...}`, no type meaning "default").
 * Errors: BAD_CONFIG for a malformed configuration, UNKNOWN_COMPONENT for an unknown or unloadable type.
 */
export function validatorFromMetadata(config: JsonValue | undefined): Promise<Validator> {
  return fromMetadata(validators, config);
}

/** Builds a serializer from its configuration; same rules as `validatorFromMetadata`. */
export function serializerFromMetadata(config: JsonValue | undefined): Promise<Serializer> {
  return fromMetadata(serializers, config);
}

/** Builds a partition selector from its configuration; same rules as `validatorFromMetadata`. */
export function partitionSelectorFromMetadata(config: JsonValue | undefined): Promise<PartitionSelector> {
  return fromMetadata(partitionSelectors, config);
}
