// diaspora-stream: the public API. Everything applications import comes from here; driver authors' types are in
// 'diaspora-stream/driver' (lib/driver-spi.ts), test helpers in 'diaspora-stream/testing'.

export { Driver, type CreateTopicSpec, type ComponentSpec } from './driver.js';
export { registerDriver, type DriverFactory } from './driver-registry.js';
export { TopicHandle, type TopicStats, type ResetTarget, type TrimOptions } from './topic.js';
export type { TopicRetention, PartitionTrimResult } from './topic-retention.js';
export type { OnTrimmed } from './consumer/trimmed.js';
export { formatRecovery, type RecoveryReport, type RecoveryListener } from './recovery.js';
export { Producer, type ProducerOptions, type PushData, type PushMetadata } from './producer.js';
export { Consumer } from './consumer/consumer.js';
export type { ConsumerOptions, ProcessOptions, BatchProcessOptions, EventProcessor, PartitionLag, StartPosition } from './consumer/options.js';
export type { BatchProcessor } from './consumer/batch-loop.js';
export type { LifecycleStatus } from './lifecycle.js';
export { Event } from './event.js';
export { EventBatch } from './event-batch.js';
export { Future } from './future.js';
export { ThreadPool, makeThreadPool, defaultThreadPool } from './thread-pool.js';
export type { ModuleRef } from './threads/module-ref.js';
export type { ProcessOrdering } from './threads/threaded-process.js';
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
// Returned by TopicHandle.listConsumers() and verify(). The driver SPI (DriverBackend, ...) is in 'diaspora-stream/driver'.
export type { ConsumerPosition, PositionDamage, VerifyProblem } from './backend.js';
