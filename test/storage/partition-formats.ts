// The two on-disk formats as the partition contract suite (partition-contract.ts) and its child process see
// them: how to open a partition, where its files are, how to make and list topics.
import path from 'node:path';
import { PartitionLog } from '../../storage/partition-log.js';
import { ReferencePartitionLog } from '../../storage/reference/reference-partition-log.js';
import { TopicStore } from '../../storage/topic-store.js';
import { ReferenceTopicStore } from '../../storage/reference/reference-topic-store.js';
import { segmentPaths } from '../../storage/segment-files.js';
import { INDEX_FILE, DATA_FILE } from '../../storage/reference/reference-layout.js';
import type { PartitionLogLike, PartitionOptions, RecoveryReport, TopicStoreLike } from '../../storage/types.js';

export type FormatName = 'native' | 'reference';

export interface PartitionUnderTest extends PartitionLogLike {
  recovery: RecoveryReport | null;
}

export interface PartitionFormat {
  name: FormatName;
  /** Opens the partition stored in `dir` (read-only until the first append). */
  open(dir: string, opts?: PartitionOptions): PartitionUnderTest;
  /** The index and data files of the partition's (last) segment, where a torn tail lies. */
  tailFiles(dir: string): { index: string; data: string };
  createTopic(root: string, name: string, config: { numPartitions: unknown; components?: unknown }): TopicStoreLike;
  openTopic(root: string, name: string): TopicStoreLike;
  removeTopic(root: string, name: string): void;
  topicExists(root: string, name: string): boolean;
}

type CreateConfig = Parameters<typeof TopicStore.create>[2];

export const FORMATS: Record<FormatName, PartitionFormat> = {
  native: {
    name: 'native',
    open: (dir, opts) => PartitionLog.open(dir, 0, opts),
    tailFiles: (dir) => {
      const p = segmentPaths(dir, 0);
      return { index: p.index, data: p.data };
    },
    createTopic: (root, name, config) => TopicStore.create(root, name, config as CreateConfig),
    openTopic: (root, name) => TopicStore.open(root, name),
    removeTopic: (root, name) => TopicStore.remove(root, name),
    topicExists: (root, name) => TopicStore.exists(root, name),
  },
  reference: {
    name: 'reference',
    open: (dir, opts) => ReferencePartitionLog.open(dir, 0, opts),
    tailFiles: (dir) => ({ index: path.join(dir, INDEX_FILE), data: path.join(dir, DATA_FILE) }),
    createTopic: (root, name, config) => ReferenceTopicStore.create(root, name, config as CreateConfig),
    openTopic: (root, name) => ReferenceTopicStore.open(root, name),
    removeTopic: (root, name) => ReferenceTopicStore.remove(root, name),
    topicExists: (root, name) => ReferenceTopicStore.exists(root, name),
  },
};
