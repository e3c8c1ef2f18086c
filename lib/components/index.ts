// Public surface of the components (validators, serializers, partition selectors and their registry).
export { type Validator, isValidator, DefaultValidator } from './validator.js';
export { SchemaValidator } from './schema-validator.js';
export { EventbridgeValidator } from './eventbridge-validator.js';
export { compileEventbridgePattern } from './eventbridge.js';
export {
  type Serializer,
  isSerializer,
  DefaultSerializer,
  encodeJsonMetadata,
  decodeJsonMetadata,
} from './serializer.js';
export { SchemaSerializer } from './schema-serializer.js';
export { type PartitionSelector, isPartitionSelector, DefaultPartitionSelector } from './partition-selector.js';
export {
  type ComponentKind,
  registerValidator,
  registerSerializer,
  registerPartitionSelector,
  registeredComponents,
  validatorFromMetadata,
  serializerFromMetadata,
  partitionSelectorFromMetadata,
} from './registry.js';
