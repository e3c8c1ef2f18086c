// A custom-component module as users write them: importing it registers its components by name.
// Used by registry-modules.test.ts through the "name:module-path" form.
import { InvalidMetadata } from '../../../../lib/errors.js';
import type { JsonObject, JsonValue } from '../../../../lib/json.js';
import { registerPartitionSelector, registerSerializer, registerValidator } from '../../../../lib/components/registry.js';
import { DefaultSerializer } from '../../../../lib/components/serializer.js';

/** Accepts metadata whose `field` (config, default "n") is an even number. */
registerValidator('even-only', (config: JsonObject) => {
  const field = typeof config.field === 'string' ? config.field : 'n';
  return {
    validate(metadata: JsonValue): void {
      const value = (metadata as JsonObject | null)?.[field];
      if (typeof value !== 'number' || value % 2 !== 0) throw new InvalidMetadata(`${field} must be even`);
    },
    metadata: () => structuredClone(config),
  };
});

/** Default wire format behind a one-byte version tag. */
registerSerializer('tagged', (config: JsonObject) => {
  const inner = new DefaultSerializer();
  return {
    serialize(md: JsonValue): Uint8Array {
      const body = inner.serialize(md);
      const out = new Uint8Array(body.length + 1);
      out[0] = 1;
      out.set(body, 1);
      return out;
    },
    deserialize: (bytes: Uint8Array) => inner.deserialize(bytes.subarray(1)),
    metadata: () => structuredClone(config),
  };
});

/** Sends everything to the last partition. */
registerPartitionSelector('last', (config: JsonObject) => {
  let n = 0;
  return {
    setPartitions(partitions: JsonObject[]): void {
      n = partitions.length;
    },
    selectPartitionFor: () => n - 1,
    metadata: () => structuredClone(config),
  };
});
