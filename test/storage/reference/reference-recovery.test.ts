// A torn tail left by a crashed writer (C++ or ours) is detected, reported, never read as an event, and cut
// when it is safe to (idle files or an append under the writer lock); damage in the middle is CORRUPTION.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { ReferenceTopicStore } from '../../../storage/reference/reference-topic-store.js';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { StorageError } from '../../../storage/types.js';
import { ageFiles, copyFixtureRoot, decodeIndexFile, loadExpected, partitionFile, removeTemp, sha256 } from './reference-fixture.js';

const HOLDER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures-bin', 'hold-writer-lock.js');
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const expected = loadExpected();
const stringsMeta = expected.topics.strings!.partitions[0]!.events.map((e) => e.metadata_compact);
const size = (f: string): number => fs.statSync(f).size;

test('index cut at every byte of the last entry: the previous events remain, the tail is cut when idle', (t) => {
  const root = copyFixtureRoot();
  try {
    const idx = partitionFile(root, 'strings', 0, 'index');
    const meta = partitionFile(root, 'strings', 0, 'metadata');
    const original = fs.readFileSync(idx);
    const originalMeta = fs.readFileSync(meta);
    const entries = decodeIndexFile(original);
    const end4 = entries[4]!.metadataOffset + entries[4]!.metadataSize;
    for (let keep = 0; keep < 32; keep++) {
      fs.writeFileSync(idx, original.subarray(0, 5 * 32 + keep));
      fs.writeFileSync(meta, originalMeta);
      // Fresh files: a live writer might be mid-write, so opening only ignores the tail.
      let store = ReferenceTopicStore.open(root, 'strings');
      let log = store.partition(0);
      t.is(log.endId, 5, `keep ${keep}`);
      t.deepEqual(log.readRange(0, 10).map((e) => Buffer.from(e.metadata).toString()), stringsMeta.slice(0, 5));
      t.is(t.throws(() => log.read(5), { instanceOf: StorageError })!.code, 'OUT_OF_RANGE');
      t.not(log.recovery, null);
      t.false(log.recovery!.truncated);
      t.is(size(idx), 5 * 32 + keep, 'left in place');
      store.close();
      // Idle files (the writer is gone) and repair asked for: opening cuts the torn entry and the orphan record.
      ageFiles(root, 'strings', 0);
      store = ReferenceTopicStore.open(root, 'strings', { repairOnOpen: 'if-idle' });
      log = store.partition(0);
      t.is(log.endId, 5);
      const rec = log.recovery!;
      t.true(rec.truncated);
      t.is(rec.droppedEntries, keep > 0 ? 1 : 0);
      t.is(rec.droppedBytes, originalMeta.length - end4);
      t.true(rec.notes.some((n) => n.includes(meta) && n.includes(`offset ${end4}`)));
      if (keep > 0) t.true(rec.notes.some((n) => n.includes(idx) && n.includes('offset 160')));
      t.is(size(idx), 160);
      t.is(size(meta), end4);
      t.deepEqual(log.verify(), []);
      store.close();
    }
  } finally {
    removeTemp(root);
  }
});

test('an entry pointing past the end of data or metadata is torn; junk after the end is dropped', (t) => {
  const root = copyFixtureRoot();
  try {
    const exp = expected.topics.collisions!.partitions[1]!.events;
    const idx = partitionFile(root, 'collisions', 1, 'index');
    const meta = partitionFile(root, 'collisions', 1, 'metadata');
    const data = partitionFile(root, 'collisions', 1, 'data');
    const entries = decodeIndexFile(fs.readFileSync(idx));
    // The last event's data is incomplete (crash during the data write, index already on disk after an OS crash).
    fs.truncateSync(data, size(data) - 10);
    // Junk after the index and the metadata.
    fs.appendFileSync(idx, Buffer.from('garbage-garbage-garbage'));
    fs.appendFileSync(meta, Buffer.alloc(100, 0xee));
    ageFiles(root, 'collisions', 1);
    const store = ReferenceTopicStore.open(root, 'collisions', { repairOnOpen: 'if-idle' });
    const log = store.partition(1);
    t.is(log.endId, 23);
    t.is(log.recovery!.droppedEntries, 2, 'the torn entry and the partial junk entry');
    t.is(size(idx), 23 * 32);
    t.is(size(meta), entries[22]!.metadataOffset + entries[22]!.metadataSize);
    t.is(size(data), entries[22]!.dataOffset + entries[22]!.dataSize);
    log.readRange(0, 100).forEach((e, i) => t.is(sha256(e.data()), exp[i]!.data_sha256));
    t.deepEqual(log.verify(), []);
    // Appending continues right after the last good event.
    t.deepEqual(log.append([{ metadata: enc('{"after":"crash"}'), data: enc('xyz') }]), { firstId: 23, count: 1 });
    const e23 = decodeIndexFile(fs.readFileSync(idx))[23]!;
    t.is(e23.metadataOffset, entries[22]!.metadataOffset + entries[22]!.metadataSize);
    t.is(e23.dataOffset, entries[22]!.dataOffset + entries[22]!.dataSize);
    store.close();
  } finally {
    removeTemp(root);
  }
});

test('a metadata record whose length prefix does not match is torn at the tail, corruption in the middle', (t) => {
  const root = copyFixtureRoot();
  try {
    const meta = partitionFile(root, 'strings', 0, 'metadata');
    const entries = decodeIndexFile(fs.readFileSync(partitionFile(root, 'strings', 0, 'index')));
    const bytes = fs.readFileSync(meta);
    // Zero the last record (what an OS crash can leave: the size grew but the content never reached the disk).
    bytes.fill(0, entries[5]!.metadataOffset);
    // And damage the prefix of record 2 in the middle.
    bytes[entries[2]!.metadataOffset] = 0x7f;
    fs.writeFileSync(meta, bytes);
    const store = ReferenceTopicStore.open(root, 'strings', { repairOnOpen: 'never' });
    const log = store.partition(0);
    t.is(log.endId, 5);
    t.false(log.recovery!.truncated);
    t.is(Buffer.from(log.read(1).metadata).toString(), stringsMeta[1]);
    const err = t.throws(() => log.read(2), { instanceOf: StorageError })!;
    t.is(err.code, 'CORRUPTION');
    t.is(err.details.file, meta);
    t.is(err.details.offset, entries[2]!.metadataOffset);
    t.is(t.throws(() => log.readRange(0, 10), { instanceOf: StorageError })!.code, 'CORRUPTION');
    const problems = log.verify();
    t.true(problems.some((p) => p.file === meta && p.offset === entries[2]!.metadataOffset && p.id === 2));
    t.true(problems.some((p) => p.offset === 5 * 32 && p.id === undefined), 'the torn tail is reported');
    store.close();
  } finally {
    removeTemp(root);
  }
});

test('verify reports gaps, bad JSON and entries pointing past the end, each with file and offset', (t) => {
  const root = copyFixtureRoot();
  try {
    const idxPath = partitionFile(root, 'collisions', 0, 'index');
    const metaPath = partitionFile(root, 'collisions', 0, 'metadata');
    const dataPath = partitionFile(root, 'collisions', 0, 'data');
    const idx = fs.readFileSync(idxPath);
    const entries = decodeIndexFile(idx);
    // Entry 3's data size points far past the end; entry 7's metadata is not JSON (same length).
    idx.writeBigUInt64LE(1n << 40n, 3 * 32 + 24);
    fs.writeFileSync(idxPath, idx);
    const meta = fs.readFileSync(metaPath);
    meta.write('#', entries[7]!.metadataOffset + 8);
    fs.writeFileSync(metaPath, meta);
    const store = ReferenceTopicStore.open(root, 'collisions');
    const log = store.partition(0);
    t.is(log.endId, 16, 'damage in the middle does not shorten the partition');
    const e3 = t.throws(() => log.read(3), { instanceOf: StorageError })!;
    t.is(e3.code, 'CORRUPTION');
    t.is(e3.details.file, dataPath);
    t.is(log.read(4).id, 4, 'later events stay readable');
    const problems = log.verify();
    t.true(problems.some((p) => p.id === 3 && p.file === dataPath && p.offset === entries[3]!.dataOffset));
    t.true(problems.some((p) => p.id === 7 && p.file === metaPath && p.offset === entries[7]!.metadataOffset + 8 && /JSON/.test(p.message)));
    t.true(problems.some((p) => p.id === 4 && /expected/.test(p.message)), 'the next event no longer follows on');
    store.close();
  } finally {
    removeTemp(root);
  }
});

test('the reference bug case: 1 event + 5 junk index bytes, then an append lands at entry 1, not at offset 37', (t) => {
  const root = copyFixtureRoot();
  try {
    const idx = partitionFile(root, 'strings', 0, 'index');
    fs.writeFileSync(idx, Buffer.concat([fs.readFileSync(idx).subarray(0, 32), Buffer.from([1, 2, 3, 4, 5])]));
    const store = ReferenceTopicStore.open(root, 'strings');
    const log = store.partition(0);
    t.false(log.recovery!.truncated, 'fresh files: left in place at open');
    t.deepEqual(log.append([{ metadata: enc('"next"') }]), { firstId: 1, count: 1 });
    t.true(log.recovery!.truncated, 'cut by the append, under the writer lock');
    t.is(size(idx), 64);
    const e = decodeIndexFile(fs.readFileSync(idx));
    t.deepEqual(e[1], { metadataOffset: 17, metadataSize: 14, dataOffset: 0, dataSize: 0 });
    t.is(size(partitionFile(root, 'strings', 0, 'metadata')), 31);
    store.close();
    const again = ReferenceTopicStore.open(root, 'strings').partition(0);
    t.deepEqual(again.readRange(0, 10).map((x) => Buffer.from(x.metadata).toString()), [stringsMeta[0], '"next"']);
    t.is(again.recovery, null);
    again.close();
  } finally {
    removeTemp(root);
  }
});

test('no repair while another process holds the writer lock, nor with repairOnOpen "never"; "always" repairs fresh files', async (t) => {
  const root = copyFixtureRoot();
  try {
    const idx = partitionFile(root, 'strings', 0, 'index');
    fs.appendFileSync(idx, Buffer.alloc(7, 1));
    ageFiles(root, 'strings', 0);
    const holder = spawn(process.execPath, [HOLDER, path.dirname(idx)], { stdio: ['pipe', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => holder.stdout!.on('data', (b: Buffer) => b.toString().includes('held') && resolve()));
    let store = ReferenceTopicStore.open(root, 'strings');
    t.false(store.partition(0).recovery!.truncated);
    t.true(store.partition(0).recovery!.notes.some((n) => n.includes('lock')));
    t.is(store.partition(0).endId, 6);
    t.is(size(idx), 6 * 32 + 7);
    store.close();
    const exited = new Promise((resolve) => holder.once('exit', resolve));
    holder.stdin!.end();
    await exited;
    store = ReferenceTopicStore.open(root, 'strings', { repairOnOpen: 'never' });
    t.false(store.partition(0).recovery!.truncated);
    store.close();
    t.is(size(idx), 6 * 32 + 7);
    fs.appendFileSync(idx, Buffer.alloc(1, 1)); // fresh again
    store = ReferenceTopicStore.open(root, 'strings', { repairOnOpen: 'always' });
    t.true(store.partition(0).recovery!.truncated);
    t.is(store.partition(0).recovery!.droppedEntries, 1);
    t.is(size(idx), 6 * 32);
    store.close();
  } finally {
    removeTemp(root);
  }
});

test('refresh picks up entries appended by another handle but never a torn one', (t) => {
  const root = copyFixtureRoot();
  try {
    const reader = ReferenceTopicStore.open(root, 'strings').partition(0);
    t.is(reader.endId, 6);
    const writer = ReferenceTopicStore.open(root, 'strings');
    writer.partition(0).append([{ metadata: enc('"seven"') }, { metadata: enc('"eight"') }]);
    writer.close();
    t.is(reader.refresh(), 8);
    t.is(Buffer.from(reader.read(7).metadata).toString(), '"eight"');
    // A half-written entry (as a C++ writer in progress could show) is not an event.
    const idx = partitionFile(root, 'strings', 0, 'index');
    fs.appendFileSync(idx, Buffer.alloc(20));
    t.is(reader.refresh(), 8);
    // An entry whose record is not (yet) in the metadata file is not an event either.
    const bad = Buffer.alloc(12 + 32);
    bad.writeBigUInt64LE(10_000n, 12);
    bad.writeBigUInt64LE(20n, 20);
    fs.appendFileSync(idx, bad);
    t.is(reader.refresh(), 8);
    t.is(t.throws(() => reader.read(8), { instanceOf: StorageError })!.code, 'OUT_OF_RANGE');
    reader.close();
  } finally {
    removeTemp(root);
  }
});

test('entries cut under an open partition (outside the protocol): its end does not move back, the lost ids are CORRUPTION, appends are refused', (t) => {
  const root = copyFixtureRoot();
  try {
    const idx = partitionFile(root, 'strings', 0, 'index');
    const store = ReferenceTopicStore.open(root, 'strings');
    const log = store.partition(0);
    const n = log.endId;
    t.true(n >= 3);
    fs.truncateSync(idx, (n - 2) * 32);
    t.is(log.refresh(), n);
    t.deepEqual(Buffer.from(log.read(0).metadata).toString(), stringsMeta[0]);
    const err = t.throws(() => log.read(n - 1), { instanceOf: StorageError })!;
    t.is(err.code, 'CORRUPTION');
    t.is(err.details.file, idx);
    const push = t.throws(() => log.append([{ metadata: enc('{"x":1}') }]), { instanceOf: StorageError })!;
    t.is(push.code, 'CORRUPTION');
    t.is(push.details.offset, (n - 2) * 32);
    t.is(fs.statSync(idx).size, (n - 2) * 32, 'nothing written');
    store.close();
  } finally {
    removeTemp(root);
  }
});

test('the last committed event\'s records cut under an open partition: appends are refused (a hole would read as zeros)', (t) => {
  const root = copyFixtureRoot();
  try {
    const data = partitionFile(root, 'collisions', 1, 'data');
    const store = ReferenceTopicStore.open(root, 'collisions');
    const log = store.partition(1);
    const n = log.endId;
    fs.truncateSync(data, fs.statSync(data).size - 5);
    const push = t.throws(() => log.append([{ metadata: enc('{"x":1}'), data: enc('abc') }]), { instanceOf: StorageError })!;
    t.is(push.code, 'CORRUPTION');
    t.is(push.details.file, data);
    t.is(log.endId, n);
    store.close();
  } finally {
    removeTemp(root);
  }
});
