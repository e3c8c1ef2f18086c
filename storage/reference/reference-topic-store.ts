// A topic in the C++/Python reference "files" layout (API.md 3.2): three component JSON files and
// `partitions/NNNNNNNN/{index,metadata,data}`. Opened transparently beside native topics; nothing of ours is
// written into the reference's files (our writer lock lives in its own entry of each partition folder).
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { StorageError, type TopicManifest, type TopicStoreLike } from '../types.js';
import { validateTopicName } from '../topic-name.js';
import { fsyncDir } from '../segment-files.js';
import { resolvePartitionOptions } from '../partition-log.js';
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

/** Same bound as native topics. */
export const MAX_REFERENCE_PARTITIONS = 65536;
/** What the reference writes for a default component. */
const DEFAULT_COMPONENT = { type: 'default' } as const;

export interface ReferenceTopicCreateOptions {
  numPartitions: number;
  /** `{validator, serializer, partitionSelector}` JSON configs; a missing one is written as `{"type": "default"}`. */
  components?: Record<string, unknown>;
}

function checkRoot(root: unknown): asserts root is string {
  if (typeof root !== 'string' || root.length === 0) throw new TypeError('root must be a non-empty string');
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

export class ReferenceTopicStore implements TopicStoreLike {
  readonly name: string;
  readonly dir: string;
  readonly manifest: TopicManifest;
  private readonly options: ReferencePartitionOptions;
  private readonly partitions: Array<ReferencePartitionLog | undefined>;
  private closed = false;

  private constructor(name: string, dir: string, manifest: TopicManifest, options: ReferencePartitionOptions) {
    this.name = name;
    this.dir = dir;
    this.manifest = manifest;
    this.options = options;
    this.partitions = new Array(manifest.numPartitions);
  }

  get numPartitions(): number {
    return this.manifest.numPartitions;
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
    return new ReferenceTopicStore(name, dir, manifest, opts);
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
    if (config === null || typeof config !== 'object') throw new TypeError('config must be an object');
    resolvePartitionOptions(opts); // bad options create nothing
    const n = config.numPartitions;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_REFERENCE_PARTITIONS) {
      throw new StorageError('BAD_CONFIG', `numPartitions must be an integer in [1, ${MAX_REFERENCE_PARTITIONS}], got ${String(n)}`);
    }
    const components = config.components ?? {};
    if (components === null || typeof components !== 'object' || Array.isArray(components)) {
      throw new StorageError('BAD_CONFIG', 'components must be an object');
    }
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

    fs.mkdirSync(root, { recursive: true });
    const dir = path.join(root, name);
    if (fs.existsSync(dir)) throw new StorageError('TOPIC_EXISTS', `topic ${name} already exists in ${root}`, { file: dir, name });
    const tmp = path.join(root, `.${name}.creating-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      fs.mkdirSync(tmp);
      for (let i = 0; i < n; i++) {
        const pdir = path.join(tmp, PARTITIONS_DIR, partitionDirName(i));
        fs.mkdirSync(pdir, { recursive: true });
        for (const f of [INDEX_FILE, METADATA_FILE, DATA_FILE]) fs.writeFileSync(path.join(pdir, f), '', { mode: 0o644 });
      }
      for (const t of texts) fs.writeFileSync(path.join(tmp, t.file), t.text, { mode: 0o644 });
      if (fs.existsSync(dir)) throw new StorageError('TOPIC_EXISTS', `topic ${name} already exists in ${root}`, { file: dir, name });
      try {
        fs.renameSync(tmp, dir);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOTDIR') {
          throw new StorageError('TOPIC_EXISTS', `topic ${name} already exists in ${root}`, { file: dir, name, cause: err });
        }
        throw err;
      }
      fsyncDir(root);
    } catch (err) {
      fs.rmSync(tmp, { recursive: true, force: true });
      if (err instanceof StorageError) throw err;
      throw new StorageError('IO', `cannot create topic ${name} in ${root}: ${(err as Error).message}`, { file: dir, cause: err });
    }
    return ReferenceTopicStore.open(root, name, opts);
  }

  /** Deletes a reference-format topic folder (TOPIC_NOT_FOUND if `<root>/<name>` is not one). */
  static remove(root: string, name: string): void {
    checkRoot(root);
    validateTopicName(name);
    const dir = path.join(root, name);
    if (!isReferenceTopic(dir)) throw new StorageError('TOPIC_NOT_FOUND', `no reference-format topic at ${dir}`, { file: dir, name });
    fs.rmSync(dir, { recursive: true, force: true });
  }

  /** Partition `i`, opened (with tail recovery) on first use; the same object afterwards. */
  partition(i: number): ReferencePartitionLog {
    if (this.closed) throw new StorageError('CLOSED', `topic ${this.name} is closed`);
    if (typeof i !== 'number' || !Number.isInteger(i)) throw new TypeError('partition index must be an integer');
    if (i < 0 || i >= this.numPartitions) {
      throw new StorageError('OUT_OF_RANGE', `partition ${i} does not exist (topic ${this.name} has ${this.numPartitions})`);
    }
    let p = this.partitions[i];
    if (p === undefined) {
      p = ReferencePartitionLog.open(path.join(this.dir, PARTITIONS_DIR, partitionDirName(i)), i, this.options);
      this.partitions[i] = p;
    }
    return p;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.partitions) p?.close();
  }
}
