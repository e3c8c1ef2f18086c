// One entry point for topics of either on-disk format under a root folder: native (`topic.json`) or the C++
// reference "files" driver's layout (recognised by its partitions/ folder and three component JSON files).
import fs from 'node:fs';
import path from 'node:path';
import { StorageError, type TopicStoreLike } from './types.js';
import { validateTopicName } from './topic-name.js';
import { readDirEntries } from './fs-helpers.js';
import { checkRoot, removeAbandonedTopicDirs, removeLeftoverTopicDir } from './topic-core/topic-checks.js';
import { MANIFEST_NAME, TopicStore, type CreateTopicConfig } from './topic-store.js';
import { ReferenceTopicStore } from './reference/reference-topic-store.js';
import { isReferenceTopic } from './reference/reference-layout.js';
import type { ReferencePartitionOptions } from './reference/reference-partition-log.js';

export type TopicFormat = 'native' | 'reference';

/** Partition options for either format (`repairOnOpen` and the map settings only concern reference topics). */
export type OpenTopicOptions = ReferencePartitionOptions;

function nativeOptions(opts: OpenTopicOptions): OpenTopicOptions {
  const { repairOnOpen: _r, mapChunkBytes: _c, mapLimit: _l, ...rest } = opts;
  return rest;
}

/** Format of `<root>/<name>`, or null when it is not a topic. */
export function topicStoreFormat(root: string, name: string): TopicFormat | null {
  checkRoot(root);
  validateTopicName(name);
  const dir = path.resolve(root, name);
  if (fs.existsSync(path.join(dir, MANIFEST_NAME))) return 'native';
  if (isReferenceTopic(dir)) return 'reference';
  return null;
}

/**
 * TOPIC_NOT_FOUND for `<root>/<name>`, saying so when something else sits at that path (a folder without topic.json
 * that is not a reference topic either, or a file): the name is taken, yet no topic opens under it.
 */
function topicNotFound(root: string, name: string): StorageError {
  return new StorageError('TOPIC_NOT_FOUND', `topic "${name}" does not exist in ${root}${notATopic(path.resolve(root, name))}`, { name });
}

/** For messages: what sits at `dir`, which is no topic ('' when nothing does). One stat. */
function notATopic(dir: string): string {
  const st = fs.statSync(dir, { throwIfNoEntry: false });
  if (st === undefined) return '';
  return ` (${dir} is ${st.isDirectory() ? 'a folder without topic.json' : 'not a folder'}, not a topic: remove or rename it to use this name)`;
}

export function topicStoreExists(root: string, name: string): boolean {
  return topicStoreFormat(root, name) !== null;
}

/** Opens a topic of either format; TOPIC_NOT_FOUND if `<root>/<name>` is neither. */
export function openTopicStore(root: string, name: string, opts: OpenTopicOptions = {}): TopicStoreLike {
  switch (topicStoreFormat(root, name)) {
    case 'native':
      return TopicStore.open(root, name, nativeOptions(opts));
    case 'reference':
      return ReferenceTopicStore.open(root, name, opts);
    default:
      throw topicNotFound(root, name);
  }
}

/**
 * Creates a topic in the given format. TOPIC_EXISTS when `<root>/<name>` exists as anything (so a native topic is
 * never created inside a reference topic's folder, nor the reverse) but a leftover holding no data
 * (removeLeftoverTopicDir), which is removed first.
 */
export function createTopicStore(
  root: string,
  name: string,
  format: TopicFormat,
  config: CreateTopicConfig,
  opts: OpenTopicOptions = {},
): TopicStoreLike {
  checkRoot(root);
  validateTopicName(name);
  if (format !== 'native' && format !== 'reference') throw new TypeError(`format must be "native" or "reference", got ${String(format)}`);
  removeAbandonedTopicDirs(path.resolve(root));
  const dir = path.resolve(root, name);
  const existing = topicStoreFormat(root, name);
  if (fs.existsSync(dir) && (existing !== null || !removeLeftoverTopicDir(dir))) {
    const what = existing === null ? notATopic(dir) : '';
    throw new StorageError('TOPIC_EXISTS', `"${name}" already exists in ${root}${what}`, { name });
  }
  // retention: the reference layout has nowhere to keep a policy, and its readers would not honour one.
  if (format === 'reference' && config.retention !== undefined && config.retention !== null) {
    throw new StorageError('UNSUPPORTED', `topic "${name}": reference-format topics have no retention`, { name });
  }
  return format === 'native'
    ? TopicStore.create(root, name, config, nativeOptions(opts))
    : ReferenceTopicStore.create(root, name, config, opts);
}

/**
 * retention: replaces the policy of topic `name` without opening it (a damaged one included: TopicStore.replaceRetention);
 * returns what was wrong with the policy replaced, or null. Reference-format topics have none: UNSUPPORTED.
 */
export function replaceTopicRetention(root: string, name: string, policy: unknown): string | null {
  const format = topicStoreFormat(root, name);
  if (format === 'native') return TopicStore.replaceRetention(root, name, policy);
  if (format === 'reference') throw new StorageError('UNSUPPORTED', `topic "${name}" is in the reference format, which has no retention`, { name });
  throw topicNotFound(root, name);
}

/** Deletes a topic of either format (TOPIC_NOT_FOUND if there is none). */
export function removeTopicStore(root: string, name: string): void {
  const format = topicStoreFormat(root, name);
  if (format === 'native') TopicStore.remove(root, name);
  else if (format === 'reference') ReferenceTopicStore.remove(root, name);
  else throw topicNotFound(root, name);
  removeAbandonedTopicDirs(path.resolve(root));
}

/** Every topic directly under `root`, of either format, sorted by name (a missing root has none). */
export function listTopicStores(root: string): Array<{ name: string; format: TopicFormat }> {
  checkRoot(root);
  const entries = readDirEntries(root);
  const out: Array<{ name: string; format: TopicFormat }> = [];
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    try {
      validateTopicName(e.name); // skips hidden and temporary folders
    } catch {
      continue;
    }
    const format = topicStoreFormat(root, e.name);
    if (format !== null) out.push({ name: e.name, format });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
