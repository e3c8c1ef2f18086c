// Test helpers for the C++ reference fixture (../shared/fixtures/reference-files-driver): copies it into a temp
// folder (the shared copy is never touched) and loads what the C++ consumer read back.
import fs from 'node:fs';
import { WRITER_LOCK_FOLDER } from '../../../storage/writer-lock.js';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import crypto from 'node:crypto';
import { ownedTempDir } from '../../temp-dir.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** dist/test/storage/reference -> the project root -> fixtures/reference-cpp (a byte-exact copy of the C++ fixture
 *  from ../shared/fixtures/reference-files-driver, committed so the tests need nothing outside the repository). */
export const FIXTURE_DIR = path.resolve(here, '../../../../fixtures/reference-cpp');
export const FIXTURE_ROOT = path.join(FIXTURE_DIR, 'root');

export interface ExpectedEvent {
  id: number;
  metadata: unknown;
  metadata_compact: string;
  data_size: number;
  data_sha256: string;
  data_hex?: string;
}
export interface ExpectedPartition {
  partition: number;
  dir: string;
  num_events: number;
  events: ExpectedEvent[];
}
export interface ExpectedTopic {
  num_partitions: number;
  partitions: ExpectedPartition[];
  pull_order: Array<[number, number]>;
}
export interface Expected {
  data_hex_limit: number;
  topics: Record<string, ExpectedTopic>;
}
export interface ProducerRecord {
  topic: string;
  seq: number;
  requested_partition: number | null;
  predicted_partition: number;
  returned_id: number;
  metadata: unknown;
  data_size: number;
  data_sha256: string;
}

export function loadExpected(): Expected {
  return JSON.parse(fs.readFileSync(path.join(FIXTURE_DIR, 'expected.json'), 'utf8')) as Expected;
}

export function loadProducerLog(): ProducerRecord[] {
  return JSON.parse(fs.readFileSync(path.join(FIXTURE_DIR, 'producer-log.json'), 'utf8')) as ProducerRecord[];
}

/** A writable copy of the fixture's root in a fresh temp folder. */
export function copyFixtureRoot(): string {
  const root = path.join(ownedTempDir('ds-ref-').path, 'root'); // removed by removeTemp(root)
  fs.cpSync(FIXTURE_ROOT, root, { recursive: true });
  // The shared copy is read-only; the copy must be writable.
  const chmod = (p: string): void => {
    const st = fs.statSync(p);
    fs.chmodSync(p, st.isDirectory() ? 0o755 : 0o644);
    if (st.isDirectory()) for (const e of fs.readdirSync(p)) chmod(path.join(p, e));
  };
  chmod(root);
  return root;
}

export function removeTemp(root: string): void {
  fs.rmSync(path.dirname(root), { recursive: true, force: true });
}

export function sha256(bytes: Uint8Array): string {
  return crypto.createHash('sha256').update(bytes).digest('hex');
}

/** `collisions` data as the fixture's README defines it: byte j of event k is (k*31 + j*7) % 256. */
export function collisionsData(k: number): Uint8Array {
  const size = (k * 97) % 4096;
  const out = new Uint8Array(size);
  for (let j = 0; j < size; j++) out[j] = (k * 31 + j * 7) % 256;
  return out;
}

/** JSON text with sorted keys, compact, UTF-8 as is: how the reference's default serializer stores metadata. */
export function sortedCompactJson(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v !== null && typeof v === 'object') {
      const o: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) o[k] = sort((v as Record<string, unknown>)[k]);
      return o;
    }
    return v;
  };
  return JSON.stringify(sort(value));
}

export interface DecodedEntry {
  metadataOffset: number;
  metadataSize: number;
  dataOffset: number;
  dataSize: number;
}

/** Decodes index entries by hand (four u64 LE), independently of the code under test. */
export function decodeIndexFile(bytes: Uint8Array): DecodedEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: DecodedEntry[] = [];
  for (let at = 0; at + 32 <= bytes.length; at += 32) {
    out.push({
      metadataOffset: Number(view.getBigUint64(at, true)),
      metadataSize: Number(view.getBigUint64(at + 8, true)),
      dataOffset: Number(view.getBigUint64(at + 16, true)),
      dataSize: Number(view.getBigUint64(at + 24, true)),
    });
  }
  return out;
}

export function partitionFile(root: string, topic: string, partition: number, file: 'index' | 'metadata' | 'data'): string {
  return path.join(root, topic, 'partitions', String(partition).padStart(8, '0'), file);
}

/** Pushes ms into the past on the three files of a partition, so that 'if-idle' recovery sees an idle tail. */
export function ageFiles(root: string, topic: string, partition: number, ageMs = 60_000): void {
  const t = new Date(Date.now() - ageMs);
  for (const f of ['index', 'metadata', 'data'] as const) {
    const p = partitionFile(root, topic, partition, f);
    if (fs.existsSync(p)) fs.utimesSync(p, t, t);
  }
}

/**
 * SHA-256 of every file below `dir`, by path relative to it: two trees are byte-identical iff these are equal.
 * Writer lock folders are not part of the format (they stay once used: docs/locks.md) and are left out.
 */
export function treeDigest(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory() && e.name === WRITER_LOCK_FOLDER) continue;
      if (e.isDirectory()) walk(p);
      else out.set(path.relative(dir, p), sha256(fs.readFileSync(p)));
    }
  };
  walk(dir);
  return out;
}
