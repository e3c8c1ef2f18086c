// The log engine's public surface (for lib/ and tools).
export * from './types.js';
export { TopicStore, TOPIC_FORMAT_VERSION, MAX_PARTITIONS, type CreateTopicConfig } from './topic-store.js';
export { validateTopicName } from './topic-name.js';
export {
  PartitionLog, NativeStoredEvent, resolvePartitionOptions, DEFAULT_SEGMENT_BYTES, MAX_SEGMENT_BYTES, MAX_EVENT_PART_BYTES,
  type ResolvedPartitionOptions,
} from './partition-log.js';
export { verifyPartition } from './partition-verify.js';
export { ENTRY_SIZE } from './index-entry.js';
