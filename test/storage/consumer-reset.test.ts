// A reset of several partitions killed (SIGKILL, in a real child process) at each step of storage/consumer-reset.ts:
// what files it leaves, and that the next holder of a partition's claim (a consumer loading it, the next reset)
// finishes or drops it so that positions are all old (killed before the commit point) or all new (after it), never a
// mix, as a consumer and the listing see them, and that no stray file remains.
import test, { type ExecutionContext } from 'ava';
import { fork } from 'node:child_process';
import fs from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConsumerClaims } from '../../storage/consumer-claims.js';
import { consumerDir } from '../../storage/consumer-name.js';
import { ConsumerOffsets, offsetFilePath, readOffsetFile, RESET_KILL_ENV } from '../../storage/consumer-offsets.js';
import { durableAckedFloor } from '../../storage/retention/durable-acked-floor.js';
import { StorageError } from '../../storage/types.js';
import { exitOf } from './helpers.js';
import { tempDir } from '../temp-dir.js';

const here = dirname(fileURLToPath(import.meta.url));
const OLD = [10, 11, 12, null]; // partition 3 has no offset file before the reset
const NEW = [100, 101, 102, 103];
const MOVES = NEW.map((id, p) => [p, id]);

/** Partitions 0..2 acknowledged at 10..12, then a reset of 0..3 to 100..103 in a child killed after `step`. */
async function killedReset(t: ExecutionContext, step: string): Promise<string> {
  const topic = tempDir(t, 'ds-reset-kill-');
  const o = ConsumerOffsets.open(topic, 'c');
  for (const p of [0, 1, 2]) o.store(p, OLD[p]!);
  o.close();
  const child = fork(join(here, 'fixtures-bin', 'offset-resetter.js'), [topic, 'c', JSON.stringify(MOVES)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, [RESET_KILL_ENV]: step },
  });
  t.teardown(() => void child.kill('SIGKILL'));
  t.is((await exitOf(child)).signal, 'SIGKILL');
  return topic;
}

/** What the folder holds besides the consumer's name, claims and offset files, by kind. */
function leftovers(topic: string): { temps: number[]; olds: number[]; records: number } {
  const names = fs.readdirSync(consumerDir(topic, 'c'));
  const partitionsOf = (re: RegExp): number[] => names.flatMap((n) => (re.exec(n) ? [Number(re.exec(n)![1])] : [])).sort();
  const known = names.filter((n) => n === 'name' || /^[0-9]{8}\.(offset|claim\.d)$/.test(n) || /^\.?[0-9]{8}\.offset\.(old-|.*\.tmp$)/.test(n) || /^reset-.*\.pending$/.test(n));
  if (known.length !== names.length) throw new Error(`unexpected files: ${names.join(', ')}`);
  return { temps: partitionsOf(/^\.([0-9]{8})\.offset\..*\.tmp$/), olds: partitionsOf(/^([0-9]{8})\.offset\.old-/), records: names.filter((n) => n.endsWith('.pending')).length };
}

/** How many times `fn` lists the folder `dir` (fs.readdirSync). */
function listingsOf(dir: string, fn: () => void): number {
  const readdir = fs.readdirSync;
  let listings = 0;
  fs.readdirSync = ((path: fs.PathLike, ...rest: unknown[]) => {
    if (String(path) === dir) listings++;
    return (readdir as (...a: unknown[]) => unknown)(path, ...rest);
  }) as typeof fs.readdirSync;
  try {
    fn();
  } finally {
    fs.readdirSync = readdir;
  }
  return listings;
}

const onDisk = (topic: string): Array<number | null | undefined> => [0, 1, 2, 3].map((p) => readOffsetFile(offsetFilePath(topic, 'c', p))?.lastAckedId);
const listed = (topic: string): Array<number | null | undefined> => {
  const c = ConsumerOffsets.list(topic).find((x) => x.name === 'c')!;
  return [0, 1, 2, 3].map((p) => c.partitions.get(p));
};

// What each kill leaves (before the fix: the same files, never removed, and after 'renamed-1' a consumer read partition
// 0 at 100 and the others at 11, 12, none).
const STEPS: Array<{ step: string; left: ReturnType<typeof leftovers>; files: Array<number | null | undefined>; expected: typeof NEW | typeof OLD }> = [
  { step: 'prepared', left: { temps: [0, 1, 2, 3], olds: [0, 1, 2], records: 0 }, files: [10, 11, 12, undefined], expected: OLD },
  { step: 'committed', left: { temps: [0, 1, 2, 3], olds: [0, 1, 2], records: 1 }, files: [10, 11, 12, undefined], expected: NEW },
  { step: 'renamed-1', left: { temps: [1, 2, 3], olds: [0, 1, 2], records: 1 }, files: [100, 11, 12, undefined], expected: NEW },
  { step: 'renamed', left: { temps: [], olds: [0, 1, 2], records: 1 }, files: NEW, expected: NEW },
];

for (const { step, left, files, expected } of STEPS) {
  test(`reset killed after '${step}': consumers claiming the partitions one by one see all ${expected === NEW ? 'new' : 'old'} positions; no file left`, async (t) => {
    const topic = await killedReset(t, step);
    t.deepEqual(leftovers(topic), left);
    t.deepEqual(onDisk(topic), files, 'the offset files as the kill left them');
    const want = expected.map((v) => (v === null ? undefined : v)); // partition 3: no position before the reset
    t.deepEqual(listed(topic), want, 'the listing shows what a consumer will find');
    t.is(durableAckedFloor(topic, { keepUntilAckedBy: ['c'] }, 1), want[1]! + 1, 'so does the retention floor');
    // Partitions claimed one at a time, in another order than the reset's: each sees the same side of the reset.
    const o = ConsumerOffsets.open(topic, 'c');
    for (const p of [2, 3, 1, 0]) {
      const claim = await ConsumerClaims.acquire(topic, 'c', p, { standby: false });
      try {
        t.is(o.load(p), expected[p] ?? null, `partition ${p}`);
      } finally {
        claim.release();
      }
      t.deepEqual(listed(topic), want, `after partition ${p} was claimed`);
    }
    o.close();
    t.deepEqual(leftovers(topic), { temps: [], olds: [], records: 0 });
    t.deepEqual(onDisk(topic), want);
  });
}

test("the next reset of one partition finishes an interrupted reset on every partition no live consumer holds; the holder of the other finishes it", async (t) => {
  const topic = await killedReset(t, 'renamed-1');
  const held = await ConsumerClaims.acquire(topic, 'c', 2, { standby: false }); // a live consumer, not loaded yet
  ConsumerOffsets.resetMany(topic, 'c', [[0, 7]]);
  t.deepEqual(listed(topic), [7, 101, 102, 103]);
  t.deepEqual(onDisk(topic), [7, 101, 12, 103], 'partition 2 is left to its holder');
  t.deepEqual(leftovers(topic), { temps: [2], olds: [2], records: 1 });
  const o = ConsumerOffsets.open(topic, 'c');
  t.is(o.load(2), 102);
  o.close();
  held.release();
  t.deepEqual(leftovers(topic), { temps: [], olds: [], records: 0 });
  t.deepEqual(onDisk(topic), [7, 101, 102, 103]);
});

test('a damaged reset record is CORRUPTION naming it for the consumer and the next reset; the listing still works', async (t) => {
  const topic = await killedReset(t, 'committed');
  const dir = consumerDir(topic, 'c');
  const record = join(dir, fs.readdirSync(dir).find((n) => n.endsWith('.pending'))!);
  fs.writeFileSync(record, '{"version":1,"moves":[{"partition":0,"temp":"../../elsewhere","backup":null}]}');
  const o = ConsumerOffsets.open(topic, 'c');
  const err = t.throws(() => o.load(0), { instanceOf: StorageError });
  t.is(err?.code, 'CORRUPTION');
  t.is(err?.details.file, record);
  t.regex(err!.message, /remove the file, then reset the consumer/);
  t.is((t.throws(() => ConsumerOffsets.resetMany(topic, 'c', [[1, 5]])) as StorageError).code, 'CORRUPTION');
  t.deepEqual(listed(topic), [10, 11, 12, undefined]);
  fs.rmSync(record);
  ConsumerOffsets.resetMany(topic, 'c', [[0, 1], [1, 2], [2, 3], [3, 4]]);
  t.is(o.load(0), 1);
  o.close();
  t.deepEqual(leftovers(topic), { temps: [], olds: [], records: 0 });
});

test("a consumer claiming every partition first, then loading them (as a consumer opens), finishes an interrupted reset from one listing of its folder", async (t) => {
  const topic = await killedReset(t, 'renamed-1');
  const claims = [];
  for (const p of [0, 1, 2, 3]) claims.push(await ConsumerClaims.acquire(topic, 'c', p, { standby: false }));
  const o = ConsumerOffsets.open(topic, 'c');
  // Listings of the consumer's folder during the loads (before: one per partition, a million names for 1,000).
  let loaded: Array<number | null> = [];
  let listings: number;
  try {
    listings = listingsOf(consumerDir(topic, 'c'), () => (loaded = [0, 1, 2, 3].map((p) => o.load(p))));
  } finally {
    o.close();
    for (const c of claims) c.release();
  }
  t.deepEqual(loaded, NEW);
  t.is(listings, 1);
  t.deepEqual(leftovers(topic), { temps: [], olds: [], records: 0 });
  t.deepEqual(onDisk(topic), NEW);
});

test("the retention floor of every partition, read in one turn (a topic trim), sees an interrupted reset from one listing of the folder", async (t) => {
  const topic = await killedReset(t, 'committed');
  let floors: Array<number | null> = [];
  const listings = listingsOf(consumerDir(topic, 'c'), () => (floors = [0, 1, 2, 3].map((p) => durableAckedFloor(topic, { keepUntilAckedBy: ['c'] }, p))));
  // Partition 3 had no offset file: until its new one is in place the floor keeps everything (0), as for a file removed.
  t.deepEqual(floors, [101, 102, 103, 0], 'the reset counts as done');
  t.is(listings, 1, 'one listing (before: one per partition)');
});
