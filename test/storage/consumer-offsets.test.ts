import test from 'ava';
import fc from 'fast-check';
import { fork } from 'node:child_process';
import fs from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConsumerClaims } from '../../storage/consumer-claims.js';
import { decodeConsumerName, encodeConsumerName, MAX_ENCODED_CONSUMER_NAME } from '../../storage/consumer-name.js';
import {
  ConsumerOffsets,
  decodeOffsetSlot,
  encodeOffsetSlot,
  interpretOffsetFile,
  OFFSET_FILE_BYTES,
  OFFSET_PATH_CHECK_MS,
  OFFSET_SLOT_BYTES,
  offsetFilePath,
  readOffsetFile,
} from '../../storage/consumer-offsets.js';
import { StorageError } from '../../storage/types.js';
import { tempDir } from '../temp-dir.js';

const here = dirname(fileURLToPath(import.meta.url));
const holderScript = join(here, 'fixtures-bin', 'consumer-claim-holder.js');
const writerScript = join(here, 'fixtures-bin', 'consumer-ack-writer.js');

function tempTopic(t: { teardown(fn: () => void): void }): string {
  return tempDir(t, 'ds-offsets-');
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof StorageError) return err.code;
    if (err instanceof TypeError) return 'TypeError';
    throw err;
  }
  return undefined;
}

test('store/load round trip across partitions and reopen', (t) => {
  const topic = tempTopic(t);
  const a = ConsumerOffsets.open(topic, 'app2');
  t.is(a.load(0), null);
  t.is(a.load(7), null);
  a.store(0, 0);
  a.store(7, 41);
  a.store(7, 42);
  a.store(0, 2 ** 40 + 5); // beyond 32 bits
  t.is(a.load(0), 2 ** 40 + 5);
  t.is(a.load(7), 42);
  a.close();
  const b = ConsumerOffsets.open(topic, 'app2');
  t.is(b.load(0), 2 ** 40 + 5);
  t.is(b.load(7), 42);
  t.is(b.load(3), null);
  b.store(7, Number.MAX_SAFE_INTEGER - 1);
  t.is(b.load(7), Number.MAX_SAFE_INTEGER - 1);
  b.close();
  t.deepEqual(fs.readdirSync(join(topic, 'consumers', 'app2')).sort(), ['00000000.offset', '00000007.offset', 'name']);
  t.is(fs.readFileSync(join(topic, 'consumers', 'app2', 'name'), 'utf8'), 'app2');
  t.is(fs.statSync(offsetFilePath(topic, 'app2', 7)).size, OFFSET_FILE_BYTES);
});

test('every flush behaviour stores the same values; sync and close are safe to repeat', (t) => {
  const topic = tempTopic(t);
  for (const flushBehavior of ['buffered', 'on_flush', 'immediate'] as const) {
    const o = ConsumerOffsets.open(topic, `c-${flushBehavior}`, { flushBehavior });
    for (let i = 0; i < 50; i += 3) o.store(1, i);
    o.sync();
    o.sync();
    o.close();
    o.close();
    t.is(ConsumerOffsets.open(topic, `c-${flushBehavior}`).load(1), 48, flushBehavior);
  }
});

test('storing the same id is a no-op; a smaller id is refused and leaves the value intact', (t) => {
  const topic = tempTopic(t);
  const o = ConsumerOffsets.open(topic, 'c');
  o.store(2, 10);
  const before = fs.readFileSync(offsetFilePath(topic, 'c', 2));
  o.store(2, 10);
  t.deepEqual(fs.readFileSync(offsetFilePath(topic, 'c', 2)), before);
  const err = t.throws(() => o.store(2, 9), { instanceOf: StorageError });
  t.is(err?.code, 'OUT_OF_RANGE');
  t.is(o.load(2), 10);
  o.store(2, 11);
  t.is(o.load(2), 11);
  o.close();
});

test('bad arguments give TypeError or typed StorageErrors', (t) => {
  const topic = tempTopic(t);
  t.is(codeOf(() => ConsumerOffsets.open(join(topic, 'missing'), 'c')), 'TOPIC_NOT_FOUND');
  t.is(codeOf(() => ConsumerOffsets.open(topic, '')), 'BAD_NAME');
  t.is(codeOf(() => ConsumerOffsets.open(topic, 'a\0b')), 'BAD_NAME');
  t.is(codeOf(() => ConsumerOffsets.open(topic, 'x'.repeat(MAX_ENCODED_CONSUMER_NAME + 1))), 'BAD_NAME');
  t.is(codeOf(() => ConsumerOffsets.open(topic, '\uD800')), 'BAD_NAME');
  t.is(codeOf(() => ConsumerOffsets.open(topic, 42 as unknown as string)), 'TypeError');
  t.is(codeOf(() => ConsumerOffsets.open(topic, 'c', { flushBehavior: 'sometimes' as never })), 'BAD_CONFIG');
  const o = ConsumerOffsets.open(topic, 'c');
  t.is(codeOf(() => o.store('0' as unknown as number, 1)), 'TypeError');
  t.is(codeOf(() => o.store(0, '1' as unknown as number)), 'TypeError');
  t.is(codeOf(() => o.store(-1, 1)), 'OUT_OF_RANGE');
  t.is(codeOf(() => o.store(1.5, 1)), 'OUT_OF_RANGE');
  t.is(codeOf(() => o.store(100_000_000, 1)), 'OUT_OF_RANGE');
  t.is(codeOf(() => o.store(0, -1)), 'OUT_OF_RANGE');
  t.is(codeOf(() => o.store(0, 0.5)), 'OUT_OF_RANGE');
  t.is(codeOf(() => o.store(0, Number.MAX_SAFE_INTEGER + 1)), 'OUT_OF_RANGE');
  o.store(0, 3);
  t.is(codeOf(() => o.store(0, NaN)), 'OUT_OF_RANGE'); // through the cached fast path too
  t.is(codeOf(() => o.store(0, null as unknown as number)), 'TypeError');
  t.is(o.load(0), 3);
  o.close();
  t.is(codeOf(() => o.store(0, 4)), 'CLOSED');
  t.is(codeOf(() => o.load(0)), 'CLOSED');
  t.is(ConsumerOffsets.open(topic, 'c').load(0), 3);
});

test('names with slashes, spaces, unicode, dots and percent signs map to one reversible path component', (t) => {
  const topic = tempTopic(t);
  const names = ['/tmp/x/fifo', '..', '.', '.hidden', 'a b', 'Ünïcode ✓ 名前', '%2E', '100%', 'a/../../b', 'CON', '-', 'x'.repeat(240)];
  names.forEach((name, i) => {
    const enc = encodeConsumerName(name);
    t.regex(enc, /^[A-Za-z0-9._%-]+$/);
    t.false(enc.startsWith('.'), name);
    t.is(decodeConsumerName(enc), name);
    const o = ConsumerOffsets.open(topic, name);
    o.store(0, i);
    o.close();
  });
  // Every consumer is exactly one directory directly under consumers/, nothing escaped the topic.
  t.is(fs.readdirSync(join(topic, 'consumers')).length, names.length);
  t.deepEqual(fs.readdirSync(topic), ['consumers']);
  const listed = ConsumerOffsets.list(topic);
  t.deepEqual(listed.map((c) => c.name).sort(), [...names].sort());
  names.forEach((name, i) => t.is(listed.find((c) => c.name === name)!.partitions.get(0), i));
  // Distinct names never share a directory.
  t.not(encodeConsumerName('a b'), encodeConsumerName('a%20b'));
  // Stray entries do not decode.
  for (const junk of ['.removed-1', '%zz', '%2e', 'a%2', 'a b', '%41']) t.is(decodeConsumerName(junk), null, junk);
});

test('fast-check: encodeConsumerName is reversible and injective on arbitrary strings', (t) => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }), fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }), (a, b) => {
      if (a.includes('\0') || b.includes('\0')) return;
      const ea = encodeConsumerName(a);
      const eb = encodeConsumerName(b);
      if (decodeConsumerName(ea) !== a || decodeConsumerName(eb) !== b) throw new Error(`not reversible: ${a} / ${b}`);
      if ((ea === eb) !== (a === b)) throw new Error(`collision: ${a} / ${b}`);
    }),
  );
  t.pass();
});

// The slot a store is about to overwrite = the slot not holding the current value.
function slotToBeWritten(bytes: Buffer): number {
  const a = decodeOffsetSlot(bytes, 0);
  const b = decodeOffsetSlot(bytes, OFFSET_SLOT_BYTES);
  if (a.state !== 'valid') return 0;
  if (b.state !== 'valid') return 1;
  return a.sequence > b.sequence ? 1 : 0;
}

test('a torn store (any prefix of the new slot over the old one) reads back as the previous value', (t) => {
  const topic = tempTopic(t);
  const o = ConsumerOffsets.open(topic, 'torn');
  const file = offsetFilePath(topic, 'torn', 0);
  let previous: number | null = null;
  let checked = 0;
  for (const id of [0, 1, 5, 6, 300, 2 ** 33, 2 ** 33 + 1]) {
    const before = fs.existsSync(file) ? fs.readFileSync(file) : Buffer.alloc(0);
    o.store(0, id);
    const after = fs.readFileSync(file);
    if (before.length === 0) {
      // The first store creates the file whole (renamed into place): there is no torn version of it.
      t.deepEqual(after, Buffer.concat([encodeOffsetSlot(1, id + 1), Buffer.alloc(OFFSET_SLOT_BYTES)]));
      t.deepEqual(fs.readdirSync(dirname(file)).filter((f) => f.includes('.tmp')), []);
      previous = id;
      continue;
    }
    const slot = slotToBeWritten(before.length ? before : Buffer.alloc(OFFSET_FILE_BYTES));
    const at = slot * OFFSET_SLOT_BYTES;
    // Only the predicted slot changed.
    const base = before.length ? before : Buffer.alloc(OFFSET_FILE_BYTES);
    t.deepEqual(after.subarray(OFFSET_SLOT_BYTES - at, 2 * OFFSET_SLOT_BYTES - at), base.subarray(OFFSET_SLOT_BYTES - at, 2 * OFFSET_SLOT_BYTES - at));
    for (let k = 0; k < OFFSET_SLOT_BYTES; k++) {
      // Bytes [0,k) of the new slot reached the disk, the rest is still the old slot.
      const torn = Buffer.from(base);
      after.copy(torn, at, at, at + k);
      t.is(interpretOffsetFile(torn, file).lastAckedId, previous, `id ${id}, torn after ${k} bytes`);
      // Or the rest is garbage instead of the old bytes.
      const garbage = Buffer.from(after);
      garbage.fill(0xa5, at + k, at + OFFSET_SLOT_BYTES);
      t.is(interpretOffsetFile(garbage, file).lastAckedId, previous, `id ${id}, garbage after ${k} bytes`);
      checked += 2;
    }
    t.is(interpretOffsetFile(after, file).lastAckedId, id);
    previous = id;
  }
  o.close();
  t.true(checked > 350);
});

test('garbage written over the slot being written: a reopened consumer loads the previous value', (t) => {
  const topic = tempTopic(t);
  const file = offsetFilePath(topic, 'g', 4);
  const o = ConsumerOffsets.open(topic, 'g');
  for (let i = 0; i <= 20; i++) {
    o.store(4, i * 10);
    const bytes = fs.readFileSync(file);
    const at = slotToBeWritten(bytes) * OFFSET_SLOT_BYTES;
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, Buffer.alloc(OFFSET_SLOT_BYTES, 0x5a + i), 0, OFFSET_SLOT_BYTES, at);
    fs.closeSync(fd);
    const fresh = ConsumerOffsets.open(topic, 'g');
    t.is(fresh.load(4), i * 10);
    fresh.close();
    fs.writeFileSync(file, bytes); // undo, as if the torn store never happened
  }
  o.close();
});

test('no valid slot (a damaged slot beside a never-written one, an empty file) is CORRUPTION, not "never acknowledged"', (t) => {
  // Files are created whole, so no crash leaves one of these; reading them as "nothing acknowledged" replayed everything.
  const slot = encodeOffsetSlot(1, 8);
  for (let k = 1; k < OFFSET_SLOT_BYTES; k++) {
    const file = Buffer.alloc(OFFSET_FILE_BYTES);
    slot.copy(file, 0, 0, k);
    t.is(codeOf(() => interpretOffsetFile(file, 'f')), 'CORRUPTION', `slot 0 cut after ${k} bytes`);
  }
  t.is(codeOf(() => interpretOffsetFile(Buffer.alloc(0), 'f')), 'CORRUPTION');
});

test('a zeroed offset file (its 64 bytes all zero) is CORRUPTION naming the file, not "nothing acknowledged"', (t) => {
  const topic = tempTopic(t);
  const o = ConsumerOffsets.open(topic, 'z');
  o.store(2, 41);
  o.close();
  const file = offsetFilePath(topic, 'z', 2);
  fs.writeFileSync(file, Buffer.alloc(OFFSET_FILE_BYTES));
  const err = t.throws(() => ConsumerOffsets.open(topic, 'z').load(2), { instanceOf: StorageError });
  t.is(err?.code, 'CORRUPTION');
  t.is(err?.details.file, file);
  t.is(codeOf(() => interpretOffsetFile(Buffer.alloc(OFFSET_FILE_BYTES), 'f')), 'CORRUPTION');
  ConsumerOffsets.reset(topic, 'z', 2, 41);
  t.is(readOffsetFile(file)?.lastAckedId, 41);
});

test('fast-check: random corruption or truncation never yields a value that was not stored', (t) => {
  const topic = tempTopic(t);
  let n = 0;
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 1, max: 1_000_000 }), { minLength: 1, maxLength: 12 }),
      fc.array(
        fc.oneof(
          fc.record({ kind: fc.constant('truncate' as const), at: fc.nat(OFFSET_FILE_BYTES) }),
          fc.record({ kind: fc.constant('flip' as const), at: fc.nat(OFFSET_FILE_BYTES - 1), bit: fc.nat(7) }),
          fc.record({ kind: fc.constant('overwrite' as const), at: fc.nat(OFFSET_FILE_BYTES - 1), bytes: fc.uint8Array({ minLength: 1, maxLength: 40 }) }),
        ),
        { minLength: 1, maxLength: 4 },
      ),
      (steps, damage) => {
        const name = `c${n++}`;
        const o = ConsumerOffsets.open(topic, name);
        const stored = new Set<number | null>([null]);
        let id = 0;
        for (const s of steps) {
          id += s;
          o.store(0, id);
          stored.add(id);
        }
        o.close();
        const file = offsetFilePath(topic, name, 0);
        let bytes: Buffer = fs.readFileSync(file);
        for (const d of damage) {
          if (d.kind === 'truncate') bytes = bytes.subarray(0, d.at);
          else if (d.kind === 'flip' && d.at < bytes.length) bytes[d.at]! ^= 1 << d.bit;
          else if (d.kind === 'overwrite') bytes.set(d.bytes.subarray(0, Math.max(0, bytes.length - d.at)), Math.min(d.at, bytes.length));
        }
        fs.writeFileSync(file, bytes);
        let got: number | null;
        try {
          got = ConsumerOffsets.open(topic, name).load(0);
        } catch (err) {
          if (err instanceof StorageError && err.code === 'CORRUPTION') return;
          throw err;
        }
        if (!stored.has(got)) throw new Error(`loaded ${got}, never stored (stored ${[...stored].join(',')})`);
        if (got !== null && got > id) throw new Error(`jumped ahead: ${got} > ${id}`);
      },
    ),
    { numRuns: 300 },
  );
  t.pass();
});

test('damaged beyond torn-write cases: CORRUPTION naming the file; reset repairs it', (t) => {
  const topic = tempTopic(t);
  const o = ConsumerOffsets.open(topic, 'c');
  o.store(1, 5);
  o.store(1, 6);
  o.close();
  const file = offsetFilePath(topic, 'c', 1);
  fs.writeFileSync(file, Buffer.alloc(OFFSET_FILE_BYTES, 0xff));
  const err = t.throws(() => ConsumerOffsets.open(topic, 'c').load(1), { instanceOf: StorageError });
  t.is(err?.code, 'CORRUPTION');
  t.is(err?.details.file, file);
  fs.writeFileSync(file, Buffer.alloc(20, 1));
  t.is(codeOf(() => readOffsetFile(file)), 'CORRUPTION');
  // Listed as damaged (file and message), not thrown: the listing still shows what can be read.
  const [listed] = ConsumerOffsets.list(topic);
  t.deepEqual(listed!.partitions, new Map());
  t.deepEqual([...listed!.damaged.keys()], [1]);
  t.is(listed!.damaged.get(1)!.file, file);
  t.regex(listed!.damaged.get(1)!.message, /is truncated/);
  ConsumerOffsets.reset(topic, 'c', 1, 4);
  const p = ConsumerOffsets.open(topic, 'c');
  t.is(p.load(1), 4);
  p.store(1, 9);
  p.close();
  t.is(readOffsetFile(file)?.lastAckedId, 9);
  t.deepEqual(ConsumerOffsets.list(topic)[0]!.damaged, new Map());
});

test.serial('resetMany is all or nothing: a rename that fails midway puts back the files already switched', (t) => {
  const topic = tempTopic(t);
  const o = ConsumerOffsets.open(topic, 'm');
  for (const p of [0, 1, 2]) o.store(p, 10 + p);
  o.close();
  const files = [0, 1, 2].map((p) => offsetFilePath(topic, 'm', p));
  const before = files.map((f) => fs.readFileSync(f));
  const rename = fs.renameSync;
  let calls = 0;
  fs.renameSync = ((from: fs.PathLike, to: fs.PathLike) => {
    // Renames onto offset files only (the reset's record is put in place by a rename too, before them).
    if (String(to).endsWith('.offset') && ++calls === 3) throw Object.assign(new Error('EIO: injected'), { code: 'EIO' });
    rename(from, to);
  }) as typeof fs.renameSync;
  try {
    t.is(codeOf(() => ConsumerOffsets.resetMany(topic, 'm', [[0, null], [1, 3], [2, 4]])), 'IO');
  } finally {
    fs.renameSync = rename;
  }
  t.is(calls, 5, 'two renames done, the third failed, the two done were undone');
  t.deepEqual(files.map((f) => fs.readFileSync(f)), before);
  t.deepEqual(fs.readdirSync(dirname(files[0]!)).filter((f) => f.includes('.tmp') || f.includes('.old') || f.endsWith('.pending')), []);
  t.false(ConsumerClaims.isClaimed(topic, 'm', 1), 'the claims were given back');
  ConsumerOffsets.resetMany(topic, 'm', [[0, null], [1, 3], [2, 4]]);
  t.deepEqual(files.map((f) => readOffsetFile(f)?.lastAckedId), [null, 3, 4]);
});

test.serial('the check for a deleted or replaced offset file costs no syscall per store: a stat at most once per OFFSET_PATH_CHECK_MS', (t) => {
  const topic = tempTopic(t);
  const o = ConsumerOffsets.open(topic, 'fast');
  o.store(0, 0);
  const stat = fs.statSync;
  let stats = 0;
  const writable = fs as { statSync: unknown };
  writable.statSync = (...args: Parameters<typeof fs.statSync>) => {
    stats++;
    return stat(...args);
  };
  const started = performance.now();
  try {
    for (let id = 1; id <= 2000; id++) o.store(0, id);
  } finally {
    writable.statSync = stat;
  }
  const elapsed = performance.now() - started;
  t.true(stats <= Math.ceil(elapsed / OFFSET_PATH_CHECK_MS), `${stats} stats in ${elapsed} ms`);
  o.close();
  t.is(readOffsetFile(offsetFilePath(topic, 'fast', 0))?.lastAckedId, 2000);
});

test('a replaced offset file gets the position back only while holdsClaim says the claim is held', async (t) => {
  const topic = tempTopic(t);
  let held = true;
  const o = ConsumerOffsets.open(topic, 'h', { holdsClaim: () => held });
  o.store(0, 5);
  o.store(1, 5);
  const file = offsetFilePath(topic, 'h', 0);
  fs.rmSync(file);
  await new Promise((r) => setTimeout(r, OFFSET_PATH_CHECK_MS + 50));
  o.store(0, 6); // held: put back, then written
  t.is(readOffsetFile(file)?.lastAckedId, 6);
  held = false;
  ConsumerOffsets.reset(topic, 'h', 0, 1); // the partition's new holder moved it (a new file at the path)
  ConsumerOffsets.reset(topic, 'h', 1, 2);
  await new Promise((r) => setTimeout(r, OFFSET_PATH_CHECK_MS + 50));
  const err = t.throws(() => o.store(0, 7), { instanceOf: StorageError });
  t.is(err?.code, 'CONSUMER_BUSY');
  o.close(); // partition 1: replaced, not held: left alone too
  t.is(readOffsetFile(file)?.lastAckedId, 1);
  t.is(readOffsetFile(offsetFilePath(topic, 'h', 1))?.lastAckedId, 2);
});

test('reset moves a stopped consumer backwards or forwards, and an open instance sees it on load', (t) => {
  const topic = tempTopic(t);
  const o = ConsumerOffsets.open(topic, 'app');
  o.store(0, 100);
  ConsumerOffsets.reset(topic, 'app', 0, 10);
  t.is(o.load(0), 10);
  o.store(0, 11); // continues from the reset value, no OUT_OF_RANGE
  t.is(readOffsetFile(offsetFilePath(topic, 'app', 0))?.lastAckedId, 11);
  ConsumerOffsets.reset(topic, 'app', 0, null);
  t.is(o.load(0), null);
  o.store(0, 0);
  ConsumerOffsets.reset(topic, 'app', 3, 7); // a partition never acknowledged
  t.is(o.load(3), 7);
  o.close();
  t.is(codeOf(() => ConsumerOffsets.reset(topic, 'app', 0, -2)), 'OUT_OF_RANGE');
  t.is(codeOf(() => ConsumerOffsets.reset(topic, 'app', 0, '1' as unknown as number)), 'TypeError');
  t.is(codeOf(() => ConsumerOffsets.reset(join(topic, 'nope'), 'app', 0, 1)), 'TOPIC_NOT_FOUND');
  t.false(ConsumerClaims.isClaimed(topic, 'app', 0)); // reset gave its claim back
});

test('reset and remove refuse while a consumer in this process holds the claim', async (t) => {
  const topic = tempTopic(t);
  const o = ConsumerOffsets.open(topic, 'busy');
  o.store(2, 5);
  const claim = await ConsumerClaims.acquire(topic, 'busy', 2, { standby: false });
  t.is(codeOf(() => ConsumerOffsets.reset(topic, 'busy', 2, 0)), 'CONSUMER_BUSY');
  t.is(codeOf(() => ConsumerOffsets.remove(topic, 'busy')), 'CONSUMER_BUSY');
  t.is(o.load(2), 5);
  ConsumerOffsets.reset(topic, 'busy', 1, 3); // another partition is free
  t.true(ConsumerClaims.isClaimed(topic, 'busy', 2)); // the failed remove did not drop the live claim
  claim.release();
  ConsumerOffsets.reset(topic, 'busy', 2, 0);
  t.is(o.load(2), 0);
  o.close();
});

test('reset refuses while a consumer in another process holds the claim', async (t) => {
  const topic = tempTopic(t);
  ConsumerOffsets.reset(topic, 'remote', 0, 50);
  const child = fork(holderScript, [topic, 'remote', '0', '4000', '0'], { stdio: 'inherit' });
  t.teardown(() => child.kill('SIGKILL'));
  const first = await nextMessage(child);
  t.is(first.type, 'claimed');
  t.is(codeOf(() => ConsumerOffsets.reset(topic, 'remote', 0, 0)), 'CONSUMER_BUSY');
  t.deepEqual(ConsumerOffsets.list(topic)[0]!.claimed, [0]);
  child.send({ type: 'release' });
  t.is((await nextMessage(child)).type, 'released');
  ConsumerOffsets.reset(topic, 'remote', 0, 0);
  t.is(readOffsetFile(offsetFilePath(topic, 'remote', 0))?.lastAckedId, 0);
  child.send({ type: 'exit' });
});

test('list shows every consumer with its positions and claimed partitions', async (t) => {
  const topic = tempTopic(t);
  t.deepEqual(ConsumerOffsets.list(topic), []);
  const a = ConsumerOffsets.open(topic, 'beta');
  a.store(0, 3);
  a.store(2, 9);
  a.close();
  const b = ConsumerOffsets.open(topic, 'alpha one');
  b.close();
  ConsumerOffsets.reset(topic, 'gamma/δ', 1, null);
  const claim = await ConsumerClaims.acquire(topic, 'beta', 2, { standby: false });
  fs.mkdirSync(join(topic, 'consumers', '.removed-123')); // tombstones and stray files are ignored
  fs.writeFileSync(join(topic, 'consumers', 'beta', 'notes.txt'), 'x');
  const listed = ConsumerOffsets.list(topic);
  claim.release();
  t.deepEqual(
    listed.map((c) => ({ name: c.name, partitions: [...c.partitions], claimed: c.claimed })),
    [
      { name: 'alpha one', partitions: [], claimed: [] },
      { name: 'beta', partitions: [[0, 3], [2, 9]], claimed: [2] },
      { name: 'gamma/δ', partitions: [[1, null]], claimed: [] },
    ],
  );
  t.deepEqual(ConsumerOffsets.list(topic).find((c) => c.name === 'beta')!.claimed, []);
  t.is(codeOf(() => ConsumerOffsets.list(join(topic, 'nope'))), 'TOPIC_NOT_FOUND');
});

test('remove deletes a stopped consumer and its positions', (t) => {
  const topic = tempTopic(t);
  const o = ConsumerOffsets.open(topic, 'gone');
  o.store(0, 1);
  o.store(1, 2);
  o.close();
  ConsumerOffsets.open(topic, 'kept').close();
  t.true(ConsumerOffsets.remove(topic, 'gone'));
  t.false(ConsumerOffsets.remove(topic, 'gone'));
  t.deepEqual(ConsumerOffsets.list(topic).map((c) => c.name), ['kept']);
  t.deepEqual(fs.readdirSync(join(topic, 'consumers')), ['kept']);
  t.is(ConsumerOffsets.open(topic, 'gone').load(0), null); // a new consumer of that name starts afresh
});

test('process killed at random instants while acknowledging: the stored value is never garbage and never behind what was reported', async (t) => {
  const topic = tempTopic(t);
  const stride = 7;
  let start = 3;
  for (let round = 0; round < 6; round++) {
    const child = fork(writerScript, [topic, 'crash', '0', round % 2 ? 'on_flush' : 'buffered', String(start), String(stride)], { stdio: 'inherit' });
    let last = -1;
    const ready = new Promise<void>((resolve) =>
      child.on('message', (m: { type: string; id?: number }) => {
        if (m.type === 'ready') resolve();
        else if (m.type === 'stored') last = m.id!;
      }),
    );
    await ready;
    await new Promise((r) => setTimeout(r, 20 + Math.floor(Math.random() * 80)));
    const exited = new Promise((r) => child.on('exit', r));
    child.kill('SIGKILL');
    await exited;
    const loaded = ConsumerOffsets.open(topic, 'crash').load(0);
    t.not(loaded, null);
    t.is((loaded! - 3) % stride, 0, `garbage value ${loaded}`);
    t.true(loaded! >= last, `round ${round}: loaded ${loaded} < reported ${last}`);
    t.true(loaded! >= start - stride);
    start = loaded! + stride;
  }
});

function nextMessage(child: ReturnType<typeof fork>): Promise<{ type: string; code?: string }> {
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve(m as { type: string }));
    child.once('exit', (code) => reject(new Error(`child exited (${code}) before replying`)));
  });
}
