// A topic on disk in the native layout: `<root>/<topic>/topic.json` plus `partitions/<NNNNNNNN>/` folders.
import fs from 'node:fs';
import path from 'node:path';
import { validateTopicName } from './topic-name.js';
import { PartitionLog } from './partition-log.js';
import { resolvePartitionOptions } from './partition-options.js';
import { partitionDirName } from './segment-files.js';
import { MAX_PARTITIONS, checkCreateConfig, checkNumPartitions, checkRoot, publishTopicDir, removeTopicDir } from './topic-core/topic-checks.js';
import { TopicStoreBase } from './topic-core/topic-store-base.js';
import { FolderIdentity } from './folder-identity.js';
import { StorageError, type PartitionOptions, type TopicManifest } from './types.js';
import { checkRetentionPolicy, type RetentionPolicy } from './retention/retention-policy.js';
import { readDirEntries, writeFileAtomically, writeTempBeside } from './fs-helpers.js';

export const TOPIC_FORMAT_VERSION = 1;
export const MANIFEST_NAME = 'topic.json';
export { MAX_PARTITIONS };

export interface CreateTopicConfig {
  numPartitions: number;
  components?: Record<string, unknown>;
  /** retention: see retention/retention-policy.ts (null or absent: keep everything). */
  retention?: RetentionPolicy | null;
}

function manifestPath(topicDir: string): string {
  return path.join(topicDir, MANIFEST_NAME);
}

/** topic.json read and checked, but for its retention policy: `retention` is the stored value, unchecked. */
function readManifestUnchecked(topicDir: string, name: string): { manifest: TopicManifest; retention: unknown } {
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
  const manifest: TopicManifest = { formatVersion: m.formatVersion, format: 'native', numPartitions: m.numPartitions, createdAt: m.createdAt, components: m.components ?? {} };
  return { manifest, retention: m.retention };
}

/**
 * The stored policy checked: null (keep everything) or the policy; a string says what is wrong with it. A policy
 * damaged by hand stops the topic from opening, but never its replacement (replaceRetention).
 */
function storedRetention(raw: unknown): RetentionPolicy | null | string {
  try {
    return checkRetentionPolicy(raw);
  } catch (err) {
    if (err instanceof TypeError || err instanceof StorageError) return err.message;
    throw err;
  }
}

function readManifest(topicDir: string, name: string): TopicManifest {
  const { manifest, retention: raw } = readManifestUnchecked(topicDir, name);
  const retention = storedRetention(raw);
  if (typeof retention === 'string') {
    const file = manifestPath(topicDir);
    throw new StorageError(
      'CORRUPTION',
      `${file} has an invalid retention policy: ${retention}; replace it with driver.setTopicRetention() or ` +
        `'diaspora-ctl topic retention ${name} --none' (or new --retention-* values)`,
      { file, offset: 0, problem: retention },
    );
  }
  if (retention !== null) manifest.retention = retention;
  return manifest;
}

/**
 * retention: writes `policy` (already checked; null: none) into the topic.json of `topicDir` whatever policy it
 * holds, a damaged one included. Returns what was wrong with the policy replaced (null: it was valid or absent).
 */
function writeRetention(topicDir: string, name: string, policy: RetentionPolicy | null): string | null {
  const { manifest, retention: raw } = readManifestUnchecked(topicDir, name);
  const replaced = storedRetention(raw);
  if (policy !== null) manifest.retention = policy;
  writeFileAtomically(manifestPath(topicDir), JSON.stringify(manifest, null, 2) + '\n');
  return typeof replaced === 'string' ? replaced : null;
}

export class TopicStore extends TopicStoreBase<PartitionLog> {
  private readonly options: PartitionOptions;

  private constructor(name: string, dir: string, manifest: TopicManifest, options: PartitionOptions, folder: FolderIdentity) {
    super(name, dir, manifest, folder);
    this.options = options;
  }

  /** Throws TypeError / BAD_NAME for a name that cannot be a topic folder. */
  static validateName(name: unknown): asserts name is string {
    validateTopicName(name);
  }

  static topicDir(root: string, name: string): string {
    return path.join(path.resolve(root), name);
  }

  /** Creates a topic: its folder, partition folders and topic.json, published at once (publishTopicDir). */
  static create(root: string, name: string, config: CreateTopicConfig, opts: PartitionOptions = {}): TopicStore {
    checkRoot(root);
    validateTopicName(name);
    const { numPartitions, components } = checkCreateConfig(config);
    resolvePartitionOptions(opts);
    const retention = checkRetentionPolicy(config.retention);
    const dir = TopicStore.topicDir(root, name);
    if (fs.existsSync(manifestPath(dir))) throw new StorageError('TOPIC_EXISTS', `topic "${name}" already exists in ${root}`, { name });
    const manifest: TopicManifest = { formatVersion: TOPIC_FORMAT_VERSION, format: 'native', numPartitions, createdAt: Date.now(), components };
    if (retention !== null) manifest.retention = retention;
    const text = JSON.stringify(manifest, null, 2) + '\n';
    // Built aside and renamed into place whole: topic.json is in it, so the topic exists the moment its name does.
    const folder = publishTopicDir(path.resolve(root), name, (tmp) => {
      fs.mkdirSync(path.join(tmp, 'partitions'));
      for (let i = 0; i < numPartitions; i++) fs.mkdirSync(path.join(tmp, 'partitions', partitionDirName(i)));
      fs.renameSync(writeTempBeside(manifestPath(tmp), text), manifestPath(tmp));
    });
    return new TopicStore(name, dir, manifest, opts, folder);
  }

  static open(root: string, name: string, opts: PartitionOptions = {}): TopicStore {
    checkRoot(root);
    validateTopicName(name);
    resolvePartitionOptions(opts);
    const dir = TopicStore.topicDir(root, name);
    const folder = new FolderIdentity(dir);
    const manifest = readManifest(dir, name);
    TopicStoreBase.checkOpened(folder);
    return new TopicStore(name, dir, manifest, opts, folder);
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
    removeTopicDir(dir);
  }

  /** retention: the policy as topic.json says now (another process may have changed it since this store opened). */
  currentRetention(): RetentionPolicy | null {
    const m = readManifest(this.dir, this.name);
    this.manifest.retention = m.retention;
    if (m.retention === undefined) delete this.manifest.retention;
    return m.retention ?? null;
  }

  /**
   * retention: replaces the policy in topic.json (rewritten atomically; null keeps everything from now on), also one
   * damaged since this store opened.
   */
  setRetention(policy: unknown): RetentionPolicy | null {
    if (this.closed) throw new StorageError('CLOSED', `topic "${this.name}" is closed`);
    writeRetention(this.dir, this.name, checkRetentionPolicy(policy));
    return this.currentRetention();
  }

  /**
   * retention: replaces the policy of topic `name` without opening it, so that a policy damaged by hand in topic.json
   * (which makes open() fail with CORRUPTION) can be replaced or removed (null). Returns what was wrong with the
   * policy replaced, or null when it was valid or absent. A bad `policy` is BAD_CONFIG (TypeError for a wrong
   * type) and nothing is written.
   */
  static replaceRetention(root: string, name: string, policy: unknown): string | null {
    checkRoot(root);
    validateTopicName(name);
    const retention = checkRetentionPolicy(policy);
    return writeRetention(TopicStore.topicDir(root, name), name, retention);
  }

  protected openPartition(i: number): PartitionLog {
    const dir = path.join(this.dir, 'partitions', partitionDirName(i));
    if (!fs.existsSync(dir)) {
      throw new StorageError('CORRUPTION', `partition folder ${dir} of topic "${this.name}" is missing`, { file: dir, offset: 0 });
    }
    const log = PartitionLog.open(dir, i, this.options);
    log.setRetentionRoll(this.manifest.retention ?? null);
    return log;
  }
}
