// Copies a topic into a new topic of either format (native <-> the C++ reference's files layout): every event
// of every partition, in the same partition, with the same id, metadata bytes and data bytes; component
// configs carried over. The reference format has no timestamps: converting to it drops them, and events
// converted from it get timestamp 0.
import {
  StorageError,
  type AppendEvent,
  type PartitionLogLike,
  type TopicStoreLike,
} from './types.js';
import { createTopicStore, removeTopicStore, type OpenTopicOptions, type TopicFormat } from './open-topic.js';

export interface ConvertTopicOptions extends OpenTopicOptions {
  /** Events read per batch (default 4096). */
  batchEvents?: number;
  /** Appends are cut so that one batch carries at most about this many bytes (default 64 MiB). */
  batchBytes?: number;
  /** Called after each appended batch. */
  onProgress?: (progress: { partition: number; copied: number; total: number }) => void;
}

export interface ConvertTopicResult {
  name: string;
  format: TopicFormat;
  /** Events copied, per partition. */
  events: number[];
  totalEvents: number;
  totalBytes: number;
}

function positiveInt(v: unknown, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number') throw new TypeError(`${name} must be a number`);
  if (!Number.isInteger(v) || v < 1) throw new StorageError('BAD_CONFIG', `${name} must be a positive integer, got ${v}`);
  return v;
}

function copyPartition(
  from: PartitionLogLike,
  to: PartitionLogLike,
  batchEvents: number,
  batchBytes: number,
  onBatch: (copied: number, total: number, bytes: number) => void,
): number {
  const end = from.refresh();
  let next = 0;
  const flushBatch = (batch: AppendEvent[], firstId: number, bytes: number): void => {
    if (batch.length === 0) return;
    const r = to.append(batch);
    if (r.firstId !== firstId || r.count !== batch.length) {
      // Only possible if something else appends to the new topic while it is being filled.
      throw new StorageError('CORRUPTION', `partition ${to.index} of the new topic got ids ${r.firstId}.. instead of ${firstId}..`, {
        file: to.dir,
      });
    }
    onBatch(firstId + batch.length, end, bytes);
  };
  while (next < end) {
    const events = from.readRange(next, Math.min(batchEvents, end - next));
    if (events.length === 0) {
      throw new StorageError('CORRUPTION', `partition ${from.index} ends at ${next} although its end was ${end}`, { file: from.dir });
    }
    let batch: AppendEvent[] = [];
    let batchFirst = next;
    let bytes = 0;
    for (const e of events) {
      if (e.id !== next) throw new StorageError('CORRUPTION', `partition ${from.index}: expected event ${next}, read ${e.id}`, { file: from.dir });
      const data = e.data(); // zero-copy slice; checksum-verified for native sources
      const size = e.metadata.length + data.length;
      if (batch.length > 0 && bytes + size > batchBytes) {
        flushBatch(batch, batchFirst, bytes);
        batch = [];
        batchFirst = next;
        bytes = 0;
      }
      batch.push({ metadata: e.metadata, data, timestamp: e.timestamp });
      bytes += size;
      next++;
    }
    flushBatch(batch, batchFirst, bytes);
  }
  to.flush();
  return end;
}

/**
 * Copies `src` into a new topic `<root>/<newName>` in `format`. The new topic must not exist (TOPIC_EXISTS); if
 * anything fails, the partly written new topic is removed and the source is left as it was.
 */
export function convertTopic(
  src: TopicStoreLike,
  root: string,
  newName: string,
  format: TopicFormat,
  opts: ConvertTopicOptions = {},
): ConvertTopicResult {
  if (src === null || typeof src !== 'object' || typeof src.partition !== 'function') {
    throw new TypeError('src must be an open topic store');
  }
  if (format !== 'native' && format !== 'reference') throw new TypeError(`format must be "native" or "reference", got ${String(format)}`);
  const { batchEvents: be, batchBytes: bb, onProgress, ...storeOpts } = opts;
  const batchEvents = positiveInt(be, 'batchEvents', 4096);
  const batchBytes = positiveInt(bb, 'batchBytes', 64 * 1024 * 1024);
  // Ids are positions in both formats, so a partition whose first events were removed cannot keep its ids.
  for (let i = 0; i < src.numPartitions; i++) {
    const start = src.partition(i).startId;
    if (start !== 0) {
      throw new StorageError('UNSUPPORTED', `partition ${i} of "${src.name}" starts at id ${start}: ids would not be preserved`);
    }
  }
  const dest = createTopicStore(root, newName, format, { numPartitions: src.numPartitions, components: src.manifest.components }, storeOpts);
  const result: ConvertTopicResult = { name: newName, format, events: [], totalEvents: 0, totalBytes: 0 };
  try {
    for (let i = 0; i < src.numPartitions; i++) {
      const copied = copyPartition(src.partition(i), dest.partition(i), batchEvents, batchBytes, (copied, total, bytes) => {
        result.totalBytes += bytes;
        onProgress?.({ partition: i, copied, total });
      });
      result.events.push(copied);
      result.totalEvents += copied;
    }
    dest.close();
  } catch (err) {
    dest.close();
    try {
      removeTopicStore(root, newName);
    } catch {
      // Nothing more can be undone; the original error says what went wrong.
    }
    throw err;
  }
  return result;
}
