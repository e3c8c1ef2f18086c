// A topic in the C++/Python reference "files" layout (API.md 3.2): three component JSON files and
// `partitions/NNNNNNNN/{index,metadata,data}`. Opened transparently beside native topics; nothing of ours is
// written into the reference's files (our writer lock lives in its own entry of each partition folder).
import fs from 'node:fs';
import path from 'node:path';
import { StorageError, type TopicManifest } from '../types.js';
import { validateTopicName } from '../topic-name.js';
import { resolvePartitionOptions } from '../partition-options.js';
import { checkCreateConfig, checkRoot, publishTopicDir, removeTopicDir } from '../topic-core/topic-checks.js';
import { TopicStoreBase } from '../topic-core/topic-store-base.js';
import { FolderIdentity } from '../folder-identity.js';
import { ReferencePartitionLog, type ReferencePartitionOptions } from './reference-partition-log.js';
import {
  COMPONENT_FILES,
  DATA_FILE,
  INDEX_FILE,
  METADATA_FILE,
  PARTITIONS_DIR,
  componentFileText,
  countReferencePartitions,
  isReferenceTopic,
  partitionDirName,
  type ComponentKey,
} from './reference-layout.js';

/** What the reference writes for a default component. */
const DEFAULT_COMPONENT = { type: 'default' } as const;

export interface ReferenceTopicCreateOptions {
  numPartitions: number;
  /** `{validator, serializer, partitionSelector}` JSON configs; a missing one is written as `{"type": "default"}`. */
  components?: Record<string, unknown>;
}

function readComponent(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (cause) {
    throw new StorageError('IO', `cannot read ${file}: ${(cause as Error).message}`, { file, cause });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new StorageError('CORRUPTION', `${file} is not valid JSON: ${(cause as Error).message}`, { file, offset: 0, cause });
  }
}

export class ReferenceTopicStore extends TopicStoreBase<ReferencePartitionLog> {
  private readonly options: ReferencePartitionOptions;

  private constructor(name: string, dir: string, manifest: TopicManifest, options: ReferencePartitionOptions, folder: FolderIdentity) {
    super(name, dir, manifest, folder);
    this.options = options;
  }

  /** True when `dir` has the reference layout (`partitions/` and the three JSON files) and no `topic.json`. */
  static isReferenceTopic(dir: string): boolean {
    return isReferenceTopic(dir);
  }

  static exists(root: string, name: string): boolean {
    checkRoot(root);
    validateTopicName(name);
    return isReferenceTopic(path.join(root, name));
  }

  /**
   * Opens `<root>/<name>` as the reference does: components from the three JSON files (`{}` means the default
   * component), partition count = max numeric partition folder + 1.
   */
  static open(root: string, name: string, opts: ReferencePartitionOptions = {}): ReferenceTopicStore {
    checkRoot(root);
    validateTopicName(name);
    const dir = path.resolve(root, name);
    const folder = new FolderIdentity(dir);
    if (!isReferenceTopic(dir)) {
      throw new StorageError('TOPIC_NOT_FOUND', `no reference-format topic at ${dir}`, { file: dir, name });
    }
    const components: Record<ComponentKey, unknown> = { validator: {}, serializer: {}, partitionSelector: {} };
    for (const c of COMPONENT_FILES) components[c.key] = readComponent(path.join(dir, c.file));
    const partitionsDir = path.join(dir, PARTITIONS_DIR);
    const numPartitions = countReferencePartitions(partitionsDir);
    if (numPartitions === 0) {
      throw new StorageError('CORRUPTION', `no valid partition folder in ${partitionsDir}`, { file: partitionsDir, offset: 0 });
    }
    const manifest: TopicManifest = {
      format: 'reference',
      formatVersion: 0,
      numPartitions,
      createdAt: Math.floor(fs.statSync(dir).mtimeMs),
      components,
    };
    TopicStoreBase.checkOpened(folder);
    return new ReferenceTopicStore(name, dir, manifest, opts, folder);
  }

  /**
   * Creates `<root>/<name>` in exactly the reference's layout (component files pretty-printed with sorted keys
   * and no trailing newline; empty index/metadata/data per partition), atomically (built aside, then renamed).
   */
  static create(
    root: string,
    name: string,
    config: ReferenceTopicCreateOptions,
    opts: ReferencePartitionOptions = {},
  ): ReferenceTopicStore {
    checkRoot(root);
    validateTopicName(name);
    resolvePartitionOptions(opts); // bad options create nothing
    const { numPartitions: n, components } = checkCreateConfig(config);
    const known = new Set<string>(COMPONENT_FILES.map((c) => c.key));
    for (const key of Object.keys(components)) {
      if (!known.has(key)) {
        throw new StorageError('BAD_CONFIG', `the reference format stores only validator, serializer and partitionSelector, not ${JSON.stringify(key)}`);
      }
    }
    const texts = COMPONENT_FILES.map((c) => {
      const value = (components as Record<string, unknown>)[c.key] ?? DEFAULT_COMPONENT;
      let text: string | undefined;
      try {
        text = componentFileText(value);
      } catch (cause) {
        throw new StorageError('BAD_CONFIG', `component ${c.key} is not JSON-serializable`, { cause });
      }
      if (text === undefined) throw new StorageError('BAD_CONFIG', `component ${c.key} is not JSON-serializable`);
      return { file: c.file, text };
    });

    const dir = path.join(root, name);
    if (fs.existsSync(dir)) throw new StorageError('TOPIC_EXISTS', `topic ${name} already exists in ${root}`, { file: dir, name });
    publishTopicDir(root, name, (tmp) => {
      for (let i = 0; i < n; i++) {
        const pdir = path.join(tmp, PARTITIONS_DIR, partitionDirName(i));
        fs.mkdirSync(pdir, { recursive: true });
        for (const f of [INDEX_FILE, METADATA_FILE, DATA_FILE]) fs.writeFileSync(path.join(pdir, f), '', { mode: 0o644 });
      }
      for (const t of texts) fs.writeFileSync(path.join(tmp, t.file), t.text, { mode: 0o644 });
    });
    return ReferenceTopicStore.open(root, name, opts);
  }

  /** Deletes a reference-format topic folder (TOPIC_NOT_FOUND if `<root>/<name>` is not one): renamed away, then removed. */
  static remove(root: string, name: string): void {
    checkRoot(root);
    validateTopicName(name);
    const dir = path.resolve(root, name);
    if (!isReferenceTopic(dir)) throw new StorageError('TOPIC_NOT_FOUND', `no reference-format topic at ${dir}`, { file: dir, name });
    removeTopicDir(dir);
  }

  protected openPartition(i: number): ReferencePartitionLog {
    return ReferencePartitionLog.open(path.join(this.dir, PARTITIONS_DIR, partitionDirName(i)), i, this.options);
  }
}
