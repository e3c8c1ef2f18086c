import test from 'ava';
import { ackedFloorOf, planTrim, type SegmentSummary } from '../../../storage/retention/trim-plan.js';
import { checkRetentionPolicy } from '../../../storage/retention/retention-policy.js';
import { StorageError } from '../../../storage/types.js';

// Four segments of 10 events and 100 bytes each, the newest event of segment k at time 1000 * (k + 1).
const segs: SegmentSummary[] = [0, 1, 2, 3].map((k) => ({ baseId: k * 10, endId: k * 10 + 10, bytes: 100, newestTimestamp: 1000 * (k + 1) }));

test('age: removes the sealed segments whose newest event is past the limit, never the last one', (t) => {
  const plan = planTrim(segs, { maxAgeMs: 1500 }, null, 4000);
  t.is(plan.firstId, 20);
  t.deepEqual(plan.removed.map((s) => s.reason), ['age', 'age']);
  t.is(plan.bytes, 200);
  // Everything expired: the last segment (written to) still stays.
  t.is(planTrim(segs, { maxAgeMs: 1 }, null, 1e9).firstId, 30);
  t.is(planTrim(segs, { maxAgeMs: 5000 }, null, 4000).removed.length, 0);
});

test('size: removes the oldest segments while the partition holds more than the limit', (t) => {
  t.is(planTrim(segs, { maxBytes: 250 }, null, 0).firstId, 20);
  t.is(planTrim(segs, { maxBytes: 400 }, null, 0).firstId, 0);
  t.is(planTrim(segs, { maxBytes: 1 }, null, 0).firstId, 30);
});

test('only a prefix goes: a kept segment stops the removal of later ones', (t) => {
  const odd: SegmentSummary[] = [{ ...segs[0]!, newestTimestamp: null }, ...segs.slice(1)];
  // The first segment's age is unknown: nothing after it is removed by age either.
  t.is(planTrim(odd, { maxAgeMs: 1 }, null, 1e9).firstId, 0);
});

test('acknowledgements hold segments: nothing at or past the floor is removed', (t) => {
  t.is(planTrim(segs, { maxAgeMs: 1 }, 15, 1e9).firstId, 10);
  t.is(planTrim(segs, { maxAgeMs: 1 }, 0, 1e9).firstId, 0);
  // Acknowledgement alone removes each acknowledged sealed segment.
  t.is(planTrim(segs, { keepUntilAckedBy: ['a'] }, 20, 0).firstId, 20);
  t.deepEqual(planTrim(segs, { keepUntilAckedBy: ['a'] }, 20, 0).removed.map((s) => s.reason), ['acknowledged', 'acknowledged']);
  t.is(planTrim(segs, null, null, 1e9).firstId, 0);
});

test('ackedFloorOf: the slowest listed consumer; one that never acknowledged keeps everything', (t) => {
  const acked = new Map<string, number | null>([['a', 25], ['b', 12], ['c', null]]);
  t.is(ackedFloorOf({ keepUntilAckedBy: ['a', 'b'] }, acked), 13);
  t.is(ackedFloorOf({ keepUntilAckedBy: ['a', 'c'] }, acked), 0);
  t.is(ackedFloorOf({ keepUntilAckedBy: ['a', 'zz'] }, acked), 0);
  t.is(ackedFloorOf({ keepUntilAckedBy: '*' }, acked), 0);
  t.is(ackedFloorOf({ keepUntilAckedBy: '*' }, new Map([['a', 25]])), 26);
  t.is(ackedFloorOf({ maxAgeMs: 5 }, acked), null);
  t.is(ackedFloorOf({ keepUntilAckedBy: '*', maxAgeMs: 5 }, new Map()), null);
  t.is(ackedFloorOf({ keepUntilAckedBy: '*' }, new Map()), 0);
});

test('checkRetentionPolicy: normalises, TypeError for wrong types, BAD_CONFIG for bad values and unknown keys', (t) => {
  t.is(checkRetentionPolicy(undefined), null);
  t.is(checkRetentionPolicy({}), null);
  t.deepEqual(checkRetentionPolicy({ maxAgeMs: 10, keepUntilAckedBy: ['a', 'a'] }), { maxAgeMs: 10, keepUntilAckedBy: ['a'] });
  const bad = (v: unknown): StorageError => t.throws(() => checkRetentionPolicy(v), { instanceOf: StorageError }) as StorageError;
  for (const v of [{ maxAgeMs: 0 }, { maxAgeMs: 1.5 }, { maxBytes: -1 }, { keepUntilAckedBy: [] }, { keepUntilAckedBy: 'x' }, { keepUntilAckedBy: [''] }, { maxAge: 5 }]) {
    t.is(bad(v).code, 'BAD_CONFIG', JSON.stringify(v));
  }
  for (const v of [{ maxAgeMs: '5' }, { maxBytes: null }, { keepUntilAckedBy: [5] }, { keepUntilAckedBy: 5 }, 'x', []]) {
    t.throws(() => checkRetentionPolicy(v), { instanceOf: TypeError }, JSON.stringify(v));
  }
});
