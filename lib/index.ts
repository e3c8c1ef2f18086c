// diaspora-stream: the public API. Everything users import comes from here.

export { Driver, type CreateTopicSpec, type ComponentSpec } from './driver.js';
export { registerDriver, type DriverFactory } from './driver-registry.js';
export { TopicHandle, type TopicStats, type ResetTarget } from './topic.js';
export { formatRecovery, type RecoveryReport, type RecoveryListener } from './recovery.js';
export { Producer, type ProducerOptions, type PushData } from './producer.js';
export {
  Consumer,
  type ConsumerOptions,
  type ProcessOptions,
  type EventProcessor,
  type PartitionLag,
  type StartPosition,
} from './consumer.js';
export { Event } from './event.js';
export { Future } from './future.js';
export { ThreadPool, makeThreadPool, defaultThreadPool } from './thread-pool.js';
export { BatchSize, Ordering } from './options.js';
export { DiasporaError, InvalidMetadata, StopEventProcessor, ErrorCode, type ErrorDetails } from './errors.js';
export type { JsonValue, JsonObject, JsonPrimitive } from './json.js';
export { DataDescriptor, DataView, selectData, fullDataSelector, bufferAllocator, type DataSelector, type DataAllocator } from './data/index.js';
export {
  type Validator,
  type Serializer,
  type PartitionSelector,
  DefaultValidator,
  SchemaValidator,
  EventbridgeValidator,
  DefaultSerializer,
  SchemaSerializer,
  DefaultPartitionSelector,
  compileEventbridgePattern,
  registerValidator,
  registerSerializer,
  registerPartitionSelector,
  validatorFromMetadata,
  serializerFromMetadata,
  partitionSelectorFromMetadata,
} from './components/index.js';
export type {
  DriverBackend,
  TopicBackend,
  PartitionBackend,
  OffsetsBackend,
  ClaimHandle,
  BackendRecord,
  BackendAppendEvent,
  BackendPartitionStats,
  BackendRecoveryReport,
  ConsumerPosition,
  VerifyProblem,
} from './backend.js';
