// Timestamps of a partition never decrease, also across an age trim that leaves no event behind and across a writer
// restart onto an empty last segment: the writer's floor is the newest event stored or, once retention removed
// every event, the newest one it removed (recorded in recovery.point with the first id). Explicit timestamps stand for
// a wall clock stepped back (NTP, a resumed VM) between the trim and the next producer.
import test from 'ava';
import fs from 'node:fs';
import { TopicStore } from '../../../storage/topic-store.js';
import { trimTopic } from '../../../storage/retention/trim-topic.js';
import { encodeRecoveryPoint, readRecoveryPoint, recoveryPointPath } from '../../../storage/recovery-point.js';
import { decodeEntry, encodeEntry } from '../../../storage/index-entry.js';
import { listSegmentBases, segmentPaths } from '../../../storage/segment-files.js';
import { SEGMENT_BYTES, events, makeTopic } from './retention-fixture.js';

const T = 1_800_000_000_000;
const HOUR = 3_600_000;

/** A store of the same topic as a restarted producer sees it (nothing of the first handle's memory). */
function reopen(root: string): TopicStore {
  return TopicStore.open(root, 't', { segmentBytes: SEGMENT_BYTES });
}

function timestamps(store: TopicStore): number[] {
  const log = store.partition(0);
  return log.readRange(log.startId, 100).map((e) => e.timestamp - T);
}

test('an age trim that removes every event keeps its newest timestamp: a writer started after it does not go back in time', (t) => {
  const { root, store, dir } = makeTopic(t, { maxAgeMs: 60_000 });
  store.partition(0).append(events(0, 6, T)); // T .. T+5, two segments
  const [r] = trimTopic(store, { now: T + HOUR });
  t.is(r!.firstId, 6, 'every event removed');
  t.deepEqual(listSegmentBases(dir), [6], 'only the empty segment the trim rolled to is left');
  const point = readRecoveryPoint(dir);
  t.is(point.kind === 'ok' ? point.point.timestampFloor : null, T + 5, 'recorded with the first id');
  store.close();

  const restarted = reopen(root);
  t.teardown(() => restarted.close());
  const log = restarted.partition(0);
  log.append(events(6, 2, T - HOUR)); // the clock went back an hour
  t.deepEqual(timestamps(restarted), [5, 5], 'clamped to the newest removed event, not an hour back');
  // A consumer resuming from the time it had reached (event 3) gets the events written since, not the end.
  t.is(log.findByTime(T + 3), 6);
  t.deepEqual(log.verify(), []);
});

test('a writer started onto an empty last segment (rolled by age, the sealed ones kept) takes its floor from the event before it', (t) => {
  const { root, store, dir } = makeTopic(t, { maxAgeMs: 60_000, keepUntilAckedBy: ['archiver'] });
  store.partition(0).append(events(0, 6, T));
  const [r] = trimTopic(store, { now: T + HOUR });
  t.is(r!.removedSegments, 0, 'nothing acknowledged by archiver: nothing removed');
  t.deepEqual(listSegmentBases(dir), [0, 4, 6], 'the last segment was rolled by age and is empty');
  store.close();

  const restarted = reopen(root);
  t.teardown(() => restarted.close());
  const log = restarted.partition(0);
  log.append(events(6, 2, T - HOUR));
  t.deepEqual(timestamps(restarted), [0, 1, 2, 3, 4, 5, 5, 5]);
  t.is(log.findByTime(T + 3), 3);
  t.is(log.findByTime(T + 6), 8);
  t.is(log.stats().lastTimestamp, T + 5);
  t.deepEqual(log.verify(), []);
});

test('verify reports a timestamp below the recorded floor, and one going back across a segment boundary', (t) => {
  const { store, dir } = makeTopic(t, { maxAgeMs: 60_000 });
  const log = store.partition(0);
  log.append(events(0, 6, T)); // segments 0 (ids 0..3) and 4 (ids 4, 5)
  t.deepEqual(log.verify(), []);
  // Event 4, the first of its segment, rewritten an hour back (a valid entry: only its timestamp is wrong).
  const index = segmentPaths(dir, 4).index;
  const bytes = fs.readFileSync(index);
  const e = decodeEntry(bytes, 0);
  encodeEntry(bytes, 0, e.metaOffset, e.dataOffset, e.metaLength, e.dataLength, T - HOUR, e.metaCrc, e.dataCrc);
  fs.writeFileSync(index, bytes);
  t.deepEqual(log.verify().map((p) => [p.id, p.offset, p.message]), [
    [4, 0, `timestamp goes backwards: ${T - HOUR} is earlier than the event before (${T + 3})`],
  ]);
  // A floor above the first stored event: only damage (or a foreign writer) leaves one.
  const state = readRecoveryPoint(dir);
  if (state.kind !== 'ok') throw new Error('no point');
  fs.writeFileSync(recoveryPointPath(dir), encodeRecoveryPoint({ ...state.point, timestampFloor: T + 1 }));
  t.deepEqual(log.verify().map((p) => [p.id, p.message]), [
    [0, `timestamp goes backwards: ${T} is earlier than the newest event retention removed (${T + 1}, recorded in ${recoveryPointPath(dir)})`],
    [4, `timestamp goes backwards: ${T - HOUR} is earlier than the event before (${T + 3})`],
  ]);
});
