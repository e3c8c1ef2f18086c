// What the topic stores of every format share: the manifest, the partitions opened lazily (each once, with crash
// recovery on first use) and closing. A format (topic-store.ts, reference/reference-topic-store.ts) supplies how a
// topic is created, opened and removed on disk, and how partition `i` is opened.
import { StorageError, type PartitionLogLike, type TopicManifest, type TopicStoreLike } from '../types.js';

export abstract class TopicStoreBase<P extends PartitionLogLike> implements TopicStoreLike {
  readonly name: string;
  readonly dir: string;
  readonly manifest: TopicManifest;
  private readonly partitions: (P | undefined)[];
  protected closed = false;

  protected constructor(name: string, dir: string, manifest: TopicManifest) {
    this.name = name;
    this.dir = dir;
    this.manifest = manifest;
    this.partitions = new Array(manifest.numPartitions);
  }

  get numPartitions(): number {
    return this.manifest.numPartitions;
  }

  /** Opens partition `i` (0 <= i < numPartitions) of this topic. */
  protected abstract openPartition(i: number): P;

  /** Partition `i`, opened (with tail recovery) on first use; the same object afterwards. */
  partition(i: number): P {
    if (this.closed) throw new StorageError('CLOSED', `topic "${this.name}" is closed`);
    if (typeof i !== 'number') throw new TypeError(`partition index must be a number, got ${typeof i}`);
    if (!Number.isInteger(i) || i < 0 || i >= this.numPartitions) {
      throw new StorageError('OUT_OF_RANGE', `topic "${this.name}" has partitions 0..${this.numPartitions - 1}, not ${i}`);
    }
    let log = this.partitions[i];
    if (log === undefined) {
      log = this.openPartition(i);
      this.partitions[i] = log;
    }
    return log;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const log of this.partitions) log?.close();
  }
}
