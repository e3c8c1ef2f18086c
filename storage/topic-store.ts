// A topic on disk in the native layout: `<root>/<topic>/topic.json` plus `partitions/<NNNNNNNN>/` folders.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { validateTopicName } from './topic-name.js';
import { readDirEntries } from './fs-helpers.js';
import { PartitionLog, resolvePartitionOptions } from './partition-log.js';
import { partitionDirName } from './segment-files.js';
import { StorageError, type PartitionOptions, type TopicManifest, type TopicStoreLike } from './types.js';
import { checkRetentionPolicy, type RetentionPolicy } from './retention/retention-policy.js';
import { writeFileAtomically, writeSyncedTemp } from './retention/manifest-update.js';

export const TOPIC_FORMAT_VERSION = 1;
export const MANIFEST_NAME = 'topic.json';
export const MAX_PARTITIONS = 65536;

export interface CreateTopicConfig {
  numPartitions: number;
  components?: Record<string, unknown>;
  /** retention: see retention/retention-policy.ts (null or absent: keep everything). */
  retention?: RetentionPolicy | null;
}

function manifestPath(topicDir: string): string {
  return path.join(topicDir, MANIFEST_NAME);
}

function checkRoot(root: unknown): asserts root is string {
  if (typeof root !== 'string') throw new TypeError(`root must be a string, got ${typeof root}`);
}

function checkNumPartitions(n: unknown): number {
  if (typeof n !== 'number') throw new TypeError(`numPartitions must be a number, got ${typeof n}`);
  if (!Number.isInteger(n) || n < 1 || n > MAX_PARTITIONS) {
    throw new StorageError('BAD_CONFIG', `numPartitions must be an integer in [1, ${MAX_PARTITIONS}], got ${n}`);
  }
  return n;
}

function readManifest(topicDir: string, name: string): TopicManifest {
  let text: string;
  try {
    text = fs.readFileSync(manifestPath(topicDir), 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new StorageError('TOPIC_NOT_FOUND', `topic "${name}" does not exist in ${path.dirname(topicDir)}`, { name });
    }
    throw new StorageError('IO', `cannot read ${manifestPath(topicDir)}`, { file: manifestPath(topicDir), cause });
  }
  let m: TopicManifest;
  try {
    m = JSON.parse(text) as TopicManifest;
  } catch (cause) {
    throw new StorageError('CORRUPTION', `${manifestPath(topicDir)} is not valid JSON`, { file: manifestPath(topicDir), offset: 0, cause });
  }
  if (m === null || typeof m !== 'object' || typeof m.formatVersion !== 'number') {
    throw new StorageError('CORRUPTION', `${manifestPath(topicDir)} has no formatVersion`, { file: manifestPath(topicDir), offset: 0 });
  }
  if (m.formatVersion !== TOPIC_FORMAT_VERSION || (m.format ?? 'native') !== 'native') {
    throw new StorageError('UNSUPPORTED', `topic "${name}" uses format ${String(m.format)} version ${m.formatVersion}; this engine reads native version ${TOPIC_FORMAT_VERSION}`, {
      file: manifestPath(topicDir),
    });
  }
  try {
    checkNumPartitions(m.numPartitions);
  } catch (cause) {
    throw new StorageError('CORRUPTION', `${manifestPath(topicDir)} has an invalid numPartitions`, { file: manifestPath(topicDir), offset: 0, cause });
  }
  let retention: RetentionPolicy | null;
  try {
    retention = checkRetentionPolicy(m.retention);
  } catch (cause) {
    throw new StorageError('CORRUPTION', `${manifestPath(topicDir)} has an invalid retention policy`, { file: manifestPath(topicDir), offset: 0, cause });
  }
  const out: TopicManifest = { formatVersion: m.formatVersion, format: 'native', numPartitions: m.numPartitions, createdAt: m.createdAt, components: m.components ?? {} };
  if (retention !== null) out.retention = retention;
  return out;
}

export class TopicStore implements TopicStoreLike {
  readonly name: string;
  readonly dir: string;
  readonly manifest: TopicManifest;
  private readonly options: PartitionOptions;
  private readonly partitions: (PartitionLog | undefined)[];
  private closed = false;

  private constructor(name: string, dir: string, manifest: TopicManifest, options: PartitionOptions) {
    this.name = name;
    this.dir = dir;
    this.manifest = manifest;
    this.options = options;
    this.partitions = new Array(manifest.numPartitions);
  }

  get numPartitions(): number {
    return this.manifest.numPartitions;
  }

  /** Throws TypeError / BAD_NAME for a name that cannot be a topic folder. */
  static validateName(name: unknown): asserts name is string {
    validateTopicName(name);
  }

  static topicDir(root: string, name: string): string {
    return path.join(path.resolve(root), name);
  }

  /** Creates a topic: partition folders first, then topic.json published atomically (it is what makes the topic exist). */
  static create(root: string, name: string, config: CreateTopicConfig, opts: PartitionOptions = {}): TopicStore {
    checkRoot(root);
    validateTopicName(name);
    if (config === null || typeof config !== 'object') throw new TypeError('topic config must be an object');
    const numPartitions = checkNumPartitions(config.numPartitions);
    const components = config.components ?? {};
    if (components === null || typeof components !== 'object' || Array.isArray(components)) throw new TypeError('components must be an object');
    resolvePartitionOptions(opts);
    const retention = checkRetentionPolicy(config.retention);
    const dir = TopicStore.topicDir(root, name);
    if (fs.existsSync(manifestPath(dir))) throw new StorageError('TOPIC_EXISTS', `topic "${name}" already exists in ${root}`, { name });
    const manifest: TopicManifest = { formatVersion: TOPIC_FORMAT_VERSION, format: 'native', numPartitions, createdAt: Date.now(), components };
    if (retention !== null) manifest.retention = retention;
    const text = JSON.stringify(manifest, null, 2) + '\n';
    fs.mkdirSync(path.join(dir, 'partitions'), { recursive: true });
    for (let i = 0; i < numPartitions; i++) fs.mkdirSync(path.join(dir, 'partitions', partitionDirName(i)), { recursive: true });
    const tmp = writeSyncedTemp(manifestPath(dir), text);
    try {
      // link() fails if topic.json exists: two concurrent creators cannot both win.
      fs.linkSync(tmp, manifestPath(dir));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new StorageError('TOPIC_EXISTS', `topic "${name}" already exists in ${root}`, { name });
      throw new StorageError('IO', `cannot write ${manifestPath(dir)}`, { file: manifestPath(dir), cause: err });
    } finally {
      fs.rmSync(tmp, { force: true });
    }
    return new TopicStore(name, dir, manifest, opts);
  }

  static open(root: string, name: string, opts: PartitionOptions = {}): TopicStore {
    checkRoot(root);
    validateTopicName(name);
    resolvePartitionOptions(opts);
    const dir = TopicStore.topicDir(root, name);
    return new TopicStore(name, dir, readManifest(dir, name), opts);
  }

  static exists(root: string, name: string): boolean {
    checkRoot(root);
    validateTopicName(name);
    return fs.existsSync(manifestPath(TopicStore.topicDir(root, name)));
  }

  /** Names of the topics under `root` (folders holding a topic.json), sorted. */
  static list(root: string): string[] {
    checkRoot(root);
    const entries = readDirEntries(root);
    return entries
      .filter((e) => e.isDirectory() && !e.name.startsWith('.') && fs.existsSync(path.join(root, e.name, MANIFEST_NAME)))
      .map((e) => e.name)
      .sort();
  }

  /** Deletes a topic: renamed away first (it vanishes at once), then removed. */
  static remove(root: string, name: string): void {
    checkRoot(root);
    validateTopicName(name);
    const dir = TopicStore.topicDir(root, name);
    if (!fs.existsSync(manifestPath(dir))) throw new StorageError('TOPIC_NOT_FOUND', `topic "${name}" does not exist in ${root}`, { name });
    // Names starting with '.' are not valid topic names, so this cannot collide with a topic.
    const doomed = path.join(path.dirname(dir), `.${name}.deleted-${process.pid}-${crypto.randomBytes(4).toString('hex')}`);
    fs.renameSync(dir, doomed);
    fs.rmSync(doomed, { recursive: true, force: true });
  }

  /** retention: the policy as topic.json says now (another process may have changed it since this store opened). */
  currentRetention(): RetentionPolicy | null {
    const m = readManifest(this.dir, this.name);
    this.manifest.retention = m.retention;
    if (m.retention === undefined) delete this.manifest.retention;
    return m.retention ?? null;
  }

  /** retention: replaces the policy in topic.json (rewritten atomically; null keeps everything from now on). */
  setRetention(policy: unknown): RetentionPolicy | null {
    if (this.closed) throw new StorageError('CLOSED', `topic "${this.name}" is closed`);
    const retention = checkRetentionPolicy(policy);
    const m = { ...readManifest(this.dir, this.name) };
    if (retention === null) delete m.retention;
    else m.retention = retention;
    writeFileAtomically(manifestPath(this.dir), JSON.stringify(m, null, 2) + '\n');
    return this.currentRetention();
  }

  partition(i: number): PartitionLog {
    if (this.closed) throw new StorageError('CLOSED', `topic "${this.name}" is closed`);
    if (typeof i !== 'number') throw new TypeError(`partition index must be a number, got ${typeof i}`);
    if (!Number.isInteger(i) || i < 0 || i >= this.numPartitions) {
      throw new StorageError('OUT_OF_RANGE', `topic "${this.name}" has partitions 0..${this.numPartitions - 1}, not ${i}`);
    }
    let log = this.partitions[i];
    if (log === undefined) {
      const dir = path.join(this.dir, 'partitions', partitionDirName(i));
      if (!fs.existsSync(dir)) {
        throw new StorageError('CORRUPTION', `partition folder ${dir} of topic "${this.name}" is missing`, { file: dir, offset: 0 });
      }
      log = PartitionLog.open(dir, i, this.options);
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
