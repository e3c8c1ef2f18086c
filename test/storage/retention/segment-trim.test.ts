import test, { type ExecutionContext } from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { TopicStore } from '../../../storage/topic-store.js';
import { PartitionLog } from '../../../storage/partition-log.js';
import { trimTopic } from '../../../storage/retention/trim-topic.js';
import { TRIM_KILL_ENV } from '../../../storage/retention/segment-trim.js';
import { listSegmentBases, partitionDirName, segmentPaths } from '../../../storage/segment-files.js';
import { readRecoveryPoint } from '../../../storage/recovery-point.js';
import { StorageError } from '../../../storage/types.js';
import { exitOf, forkBin, metaOf, nextMessage, payload } from '../helpers.js';
import { tempDir } from '../../temp-dir.js';
import { SEGMENT_BYTES, events, makeTopic } from './retention-fixture.js';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';


function checkEvent(t: ExecutionContext, log: PartitionLog, id: number): void {
  const ev = log.read(id);
  t.deepEqual(Buffer.from(ev.data()), payload(0, id, 1000));
}

test('a size trim removes whole sealed segments, moves the first id, keeps ids and reads consistent', (t) => {
  const { store, dir } = makeTopic(t, { maxBytes: 3 * SEGMENT_BYTES });
  const log = store.partition(0);
  log.append(events(0, 40, 1000));
  const reader = PartitionLog.open(dir, 0, { segmentBytes: SEGMENT_BYTES });
  t.teardown(() => reader.close());
  t.is(reader.endId, 40);
  const [r] = trimTopic(store);
  t.truthy(r);
  t.true(r!.removedSegments > 0);
  t.is(r!.firstId % 4, 0, 'a segment boundary');
  t.is(r!.firstIdBefore, 0);
  t.is(r!.removedEvents, r!.firstId);
  t.is(log.startId, r!.firstId);
  t.deepEqual(listSegmentBases(dir)[0], r!.firstId);
  // Another reader learns the new first id at its next refresh, and drops its segments below it.
  reader.refresh();
  t.is(reader.startId, r!.firstId);
  t.is(reader.segmentCount, listSegmentBases(dir).length);
  const e = t.throws(() => reader.read(r!.firstId - 1), { instanceOf: StorageError }) as StorageError;
  t.is(e.code, 'OUT_OF_RANGE');
  t.is(e.details.firstId, r!.firstId);
  t.is((t.throws(() => reader.readRange(0, 5)) as StorageError).code, 'OUT_OF_RANGE');
  for (let id = r!.firstId; id < 40; id++) checkEvent(t, reader, id);
  t.deepEqual(log.verify(), []);
  // Ids are never reused: appends go on from the end.
  t.is(log.append(events(40, 3, 2000)).firstId, 40);
  t.is(log.stats().firstId, r!.firstId);
  // A second trim with nothing over the limit removes nothing.
  t.is(trimTopic(store)[0]!.removedSegments, 0);
});

test('a size policy makes segments a quarter of its limit when segment_bytes is larger (1 GiB by default), so a trim keeps close to the limit', (t) => {
  const root = tempDir(t, 'diaspora-retention-');
  const limit = 8 * 1024 * 1024; // segments of 2 MiB
  const store = TopicStore.create(root, 't', { numPartitions: 1, retention: { maxBytes: limit } }, {}); // default segment_bytes
  t.teardown(() => store.close());
  const dir = path.join(root, 't', 'partitions', partitionDirName(0));
  const log = store.partition(0);
  const big = (from: number, n: number) => Array.from({ length: n }, (_, k) => ({ metadata: metaOf(0, from + k), data: payload(0, from + k, 64 * 1024) }));
  for (let id = 0; id < 400; id += 25) {
    log.append(big(id, 25));
    trimTopic(store, { onlyWithPolicy: true }); // what producers do after appends
  }
  const segmentFiles = (base: number): number => {
    const p = segmentPaths(dir, base);
    return fs.statSync(p.meta).size + fs.statSync(p.data).size;
  };
  const bases = listSegmentBases(dir);
  t.true(bases.length >= 3, `${bases.length} segments`);
  for (const base of bases) t.true(segmentFiles(base) <= limit / 4, `segment ${base}: ${segmentFiles(base)} bytes`);
  const kept = bases.reduce((n, b) => n + segmentFiles(b), 0);
  t.true(kept <= limit + limit / 4, `${kept} bytes kept for a limit of ${limit}`);
  for (let id = log.startId; id < log.endId; id++) t.deepEqual(Buffer.from(log.read(id).data()), payload(0, id, 64 * 1024));
  // Without the policy (read at the next check), segments go back to segment_bytes: the next ones grow past 2 MiB.
  store.setRetention(null);
  trimTopic(store, { onlyWithPolicy: true });
  const lastBefore = listSegmentBases(dir).at(-1)!;
  log.append(big(400, 80));
  t.is(listSegmentBases(dir).at(-1), lastBefore, 'no roll without the policy');
  t.true(segmentFiles(lastBefore) > limit / 4);
});

test('age retention rolls the last segment of a quiet partition so that it can go too; dry run changes nothing', (t) => {
  const { store, dir } = makeTopic(t, { maxAgeMs: 1000 });
  const log = store.partition(0);
  log.append(events(0, 10, 1000));
  const before = fs.readdirSync(dir).sort();
  const dry = trimTopic(store, { dryRun: true, now: 5000 })[0]!;
  t.is(dry.firstId, 10);
  t.deepEqual(fs.readdirSync(dir).sort(), before, 'a dry run touches no file');
  t.is(log.startId, 0);
  const [r] = trimTopic(store, { now: 5000 });
  t.is(r!.firstId, 10);
  t.is(log.startId, 10);
  t.is(log.endId, 10);
  t.deepEqual(listSegmentBases(dir), [10]);
  t.is(log.append(events(10, 1, 6000)).firstId, 10);
  checkEvent(t, log, 10);
  // Newer events are kept.
  t.is(trimTopic(store, { now: 6500 })[0]!.removedSegments, 0);
});

test('keep until acknowledged: consumers named in the policy hold segments', async (t) => {
  const { store } = makeTopic(t, { keepUntilAckedBy: ['slow'] });
  const log = store.partition(0);
  log.append(events(0, 20, 1000));
  t.is(trimTopic(store)[0]!.removedSegments, 0, 'slow never acknowledged anything');
  const { ConsumerOffsets } = await import('../../../storage/consumer-offsets.js');
  ConsumerOffsets.reset(store.dir, 'slow', 0, 9);
  t.is(trimTopic(store)[0]!.firstId, 8, 'segments whose ids are all acknowledged');
  ConsumerOffsets.reset(store.dir, 'slow', 0, 19);
  t.is(trimTopic(store)[0]!.firstId, 16, 'never the last segment');
});

test('slices held across a trim keep their bytes, and records read before it still give their data', (t) => {
  const { store, dir } = makeTopic(t, { maxBytes: 1 });
  store.partition(0).append(events(0, 20, 1000));
  const reader = PartitionLog.open(dir, 0, { segmentBytes: SEGMENT_BYTES });
  t.teardown(() => reader.close());
  const recs = reader.readRange(0, 20);
  const early = recs.slice(0, 8).map((r) => r.data());
  // Another process-like handle trims (this one holds mappings of the files it unlinks).
  const [r] = trimTopic(store);
  t.is(r!.firstId, 16);
  for (let id = 0; id < 8; id++) t.deepEqual(Buffer.from(early[id]!), payload(0, id, 1000));
  // data() called after the trim on records read before it: the mapping is still valid.
  for (let id = 8; id < 16; id++) t.deepEqual(Buffer.from(recs[id]!.data()), payload(0, id, 1000));
  reader.refresh();
  t.is(reader.startId, 16);
});

/** Descriptors and mapped ranges of this process on segment files of `dir` (deleted ones included). */
function segmentHandles(dir: string): { fds: number; deletedFds: number; maps: number } {
  let fds = 0;
  let deletedFds = 0;
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      const target = fs.readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(dir) && /\.(meta|data|index)( \(deleted\))?$/.test(target)) {
        fds++;
        if (target.endsWith('(deleted)')) deletedFds++;
      }
    } catch {
      // closed meanwhile
    }
  }
  const maps = fs.readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => l.includes(dir) && /\.(meta|data|index)/.test(l)).length;
  return { fds, deletedFds, maps };
}

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

test('descriptors and mappings of trimmed segments are released (counted in /proc/self)', async (t) => {
  if (!fs.existsSync('/proc/self/maps')) return t.pass('no /proc');
  const { store, dir } = makeTopic(t, { maxBytes: 2 * SEGMENT_BYTES });
  const log = store.partition(0);
  const reader = PartitionLog.open(dir, 0, { segmentBytes: SEGMENT_BYTES });
  t.teardown(() => reader.close());
  let next = 0;
  let peak = { fds: 0, maps: 0 };
  const baseline = segmentHandles(dir);
  for (let round = 0; round < 30; round++) {
    log.append(events(next, 12, 1000 + next));
    next += 12;
    // Read everything new (mapping the segments), then trim.
    let sum = 0;
    for (const ev of reader.readRange(Math.max(reader.startId, next - 12), 12)) sum += ev.data()[0]!;
    t.true(sum >= 0);
    trimTopic(store);
    reader.refresh();
    const now = segmentHandles(dir);
    peak = { fds: Math.max(peak.fds, now.fds), maps: Math.max(peak.maps, now.maps) };
  }
  // With the GC given its chance, what remains is bounded by the few segments retained, not by the 90 written.
  let after = segmentHandles(dir);
  for (let i = 0; i < 50 && after.maps > 3 * 3; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
    after = segmentHandles(dir);
  }
  const retained = listSegmentBases(dir).length;
  t.true(retained <= 4, `${retained} segments retained`);
  // Each of the two logs keeps its last segment's files open (the writer one more index descriptor for reading), the
  // reader at most those of retained segments: nothing of removed ones, and no growth with the 90 segments written.
  t.is(after.deletedFds, 0, 'no descriptor of a removed segment is left');
  t.true(after.fds <= baseline.fds + 8 + 3 * retained, `fds on segment files: ${after.fds} (baseline ${baseline.fds}, peak ${peak.fds})`);
  t.true(peak.fds <= baseline.fds + 8 + 3 * 5, `peak fds on segment files: ${peak.fds}`);
  t.true(after.maps <= 3 * retained, `mappings of segment files: ${after.maps} (retained segments: ${retained})`);
  const deleted = fs.readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => l.includes(dir) && l.includes('(deleted)')).length;
  t.is(deleted, 0, 'no mapping of a removed file is left');
});

const here = path.dirname(fileURLToPath(import.meta.url));

for (const step of [1, 2, 3]) {
  test(`SIGKILL after trim step ${step}: the topic opens consistent and a later trim finishes the job`, async (t) => {
    const { root, store, dir } = makeTopic(t, { maxBytes: 2 * SEGMENT_BYTES });
    store.partition(0).append(events(0, 40, 1000));
    store.close();
    const child = fork(path.join(here, '..', 'fixtures-bin', 'trimmer.js'), [root, 't', '1'], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, [TRIM_KILL_ENV]: String(step) },
    });
    t.teardown(() => void child.kill('SIGKILL'));
    t.is((await exitOf(child)).signal, 'SIGKILL');
    const point = readRecoveryPoint(dir);
    t.is(point.kind, 'ok');
    const firstId = point.kind === 'ok' ? point.point.firstId : -1;
    t.true(firstId > 0, 'step 1 recorded the new first id');
    const leftovers = listSegmentBases(dir).filter((b) => b < firstId);
    if (step < 3) t.true(leftovers.length > 0, 'segments below the first id are still there');
    // A reader opens: the first id is the recorded one, the leftovers are no damage, reads work.
    const reader = PartitionLog.open(dir, 0, { segmentBytes: SEGMENT_BYTES });
    t.teardown(() => reader.close());
    t.is(reader.startId, firstId);
    t.is(reader.endId, 40);
    t.deepEqual(reader.verify(), []);
    for (let id = firstId; id < 40; id++) checkEvent(t, reader, id);
    t.is((t.throws(() => reader.read(firstId - 1)) as StorageError).code, 'OUT_OF_RANGE');
    // A later trim (here the next writer's) removes what is left.
    const again = TopicStore.open(root, 't', { segmentBytes: SEGMENT_BYTES });
    t.teardown(() => again.close());
    trimTopic(again);
    t.deepEqual(listSegmentBases(dir).filter((b) => b < firstId), []);
    t.is(again.partition(0).append(events(40, 1, 5000)).firstId, 40);
    t.deepEqual(again.partition(0).verify(), []);
  });
}

test('a missing segment at the first id is still damage (a leftover never hides it)', (t) => {
  const { store, dir } = makeTopic(t, { maxBytes: 2 * SEGMENT_BYTES });
  store.partition(0).append(events(0, 40, 1000));
  const [r] = trimTopic(store);
  store.close();
  const first = r!.firstId;
  for (const f of fs.readdirSync(dir)) if (f.startsWith(String(first).padStart(20, '0'))) fs.unlinkSync(path.join(dir, f));
  const reader = PartitionLog.open(dir, 0, { segmentBytes: SEGMENT_BYTES });
  t.teardown(() => reader.close());
  t.true(reader.verify().some((p) => /missing/.test(p.message)));
  t.is((t.throws(() => reader.read(first)) as StorageError).code, 'CORRUPTION');
});

test('two processes trimming at once while this one appends: every id kept or removed once, the log intact', async (t) => {
  const { root, store, dir } = makeTopic(t, { maxBytes: 3 * SEGMENT_BYTES });
  const log = store.partition(0);
  log.append(events(0, 40, 1000));
  const kids = [forkBin(t, 'trimmer', [root, 't', '40']), forkBin(t, 'trimmer', [root, 't', '40'])];
  const done = kids.map((k) => nextMessage<{ type: string; removed: number }>(k, (m) => m.type === 'done'));
  let next = 40;
  for (let i = 0; i < 30; i++) {
    log.append(events(next, 4, 1000 + next));
    next += 4;
  }
  const removed = (await Promise.all(done)).reduce((n, m) => n + m.removed, 0);
  await Promise.all(kids.map(exitOf));
  const [last] = trimTopic(store);
  const first = last!.firstId;
  t.is(removed + last!.removedEvents, first, 'the removals add up to the first id: none twice, none lost');
  t.deepEqual(listSegmentBases(dir)[0], first);
  t.deepEqual(log.verify(), []);
  const reader = PartitionLog.open(dir, 0, { segmentBytes: SEGMENT_BYTES });
  t.teardown(() => reader.close());
  for (let id = first; id < next; id++) checkEvent(t, reader, id);
});
