// What the retention engine tests share: small segments and events of known bytes, in a fresh topic.
import type { ExecutionContext } from 'ava';
import path from 'node:path';
import { TopicStore } from '../../../storage/topic-store.js';
import { partitionDirName } from '../../../storage/segment-files.js';
import type { AppendEvent } from '../../../storage/types.js';
import { metaOf, payload } from '../helpers.js';
import { tempDir } from '../../temp-dir.js';

export const SEGMENT_BYTES = 4096;

/** Events of 1000 data bytes (4 per segment), timestamps from `ts` on, 1 ms apart. */
export function events(from: number, n: number, ts: number): AppendEvent[] {
  return Array.from({ length: n }, (_, k) => ({ metadata: metaOf(0, from + k), data: payload(0, from + k, 1000), timestamp: ts + k }));
}

/** A topic `t` with `retention` in a fresh folder (closed at the test's end); `dir` is partition 0's folder. */
export function makeTopic(t: ExecutionContext, retention: unknown, numPartitions = 1): { root: string; store: TopicStore; dir: string } {
  const root = tempDir(t, 'diaspora-retention-');
  const store = TopicStore.create(root, 't', { numPartitions, retention: retention as never }, { segmentBytes: SEGMENT_BYTES });
  t.teardown(() => store.close());
  return { root, store, dir: path.join(root, 't', 'partitions', partitionDirName(0)) };
}
