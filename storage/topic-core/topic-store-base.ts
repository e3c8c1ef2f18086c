// What the topic stores of every format share: the manifest, the partitions opened lazily (each once, with crash
// recovery on first use) and closing. A format (topic-store.ts, reference/reference-topic-store.ts) supplies how a
// topic is created, opened and removed on disk, and how partition `i` is opened.
import { FolderIdentity } from '../folder-identity.js';
import { StorageError, type PartitionLogLike, type TopicManifest, type TopicStoreLike } from '../types.js';

export abstract class TopicStoreBase<P extends PartitionLogLike> implements TopicStoreLike {
  readonly name: string;
  readonly dir: string;
  readonly manifest: TopicManifest;
  private readonly partitions: (P | undefined)[];
  protected closed = false;
  /** The topic's folder as this handle opened it: a topic deleted and created again under the name is another one. */
  private readonly folder: FolderIdentity;

  /**
   * `folder`: the topic folder's identity, recorded by open() before it read the description (and checked unchanged
   * after: a description read from a folder that a delete and create replaced meanwhile is not this folder's), or
   * by create() before the folder was renamed into place.
   */
  protected constructor(name: string, dir: string, manifest: TopicManifest, folder: FolderIdentity) {
    this.name = name;
    this.dir = dir;
    this.manifest = manifest;
    this.partitions = new Array(manifest.numPartitions);
    this.folder = folder;
  }

  /** For open(): TOPIC_NOT_FOUND unless `folder` (recorded before the description was read) is still there. */
  protected static checkOpened(folder: FolderIdentity): void {
    if (!folder.existed) throw folder.goneError();
    folder.assertUnchanged();
  }

  /** TOPIC_NOT_FOUND once the topic's folder was deleted, or replaced by a topic created again under the name. */
  assertFolderUnchanged(): void {
    this.folder.assertUnchanged();
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
      // Partitions open on first use, by path: not in a topic that replaced this one, checked again once open.
      this.folder.assertUnchanged();
      try {
        log = this.openPartition(i);
      } catch (err) {
        throw this.folder.explain(err);
      }
      if (this.folder.replaced()) {
        log.close();
        throw this.folder.goneError();
      }
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
