import test from 'ava';
import zlib from 'node:zlib';
import fc from 'fast-check';
import {
  ENTRY_SIZE, HOST_IS_LE, allocEntryBuffer, decodeEntry, encodeEntry, encodeEntryWords, entriesAllValid, entryIsValid, entryValidAt,
  wordsDataCrc, wordsDataLength, wordsDataOffset, wordsMetaCrc, wordsMetaLength, wordsMetaOffset, wordsTimestamp,
} from '../../storage/index-entry.js';
import { crc32, crc32Range } from '../../storage/crc.js';

const fields = fc.record({
  metaOffset: fc.integer({ min: 0, max: 2 ** 40 }),
  dataOffset: fc.integer({ min: 0, max: 2 ** 40 }),
  metaLength: fc.integer({ min: 0, max: 2 ** 31 }),
  dataLength: fc.integer({ min: 0, max: 2 ** 31 }),
  timestamp: fc.integer({ min: 0, max: 2 ** 50 }),
  metaCrc: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
  dataCrc: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
});

test('entries round-trip, both encoders write identical little-endian bytes', (t) => {
  fc.assert(fc.property(fields, (f) => {
    const a = Buffer.alloc(ENTRY_SIZE * 2);
    encodeEntry(a, ENTRY_SIZE, f.metaOffset, f.dataOffset, f.metaLength, f.dataLength, f.timestamp, f.metaCrc, f.dataCrc);
    const b = allocEntryBuffer(ENTRY_SIZE * 2);
    encodeEntryWords(b.words, ENTRY_SIZE / 4, f.metaOffset, f.dataOffset, f.metaLength, f.dataLength, f.timestamp, f.metaCrc, f.dataCrc);
    t.deepEqual(a.subarray(ENTRY_SIZE), b.buf.subarray(ENTRY_SIZE, 2 * ENTRY_SIZE));
    t.deepEqual(decodeEntry(a, ENTRY_SIZE), { ...f, flags: 0 });
    t.true(entryIsValid(a, ENTRY_SIZE));
    t.is(a.readUInt32LE(ENTRY_SIZE), f.metaOffset % 2 ** 32, 'little-endian, low word first');
    t.is(a.readUInt32LE(ENTRY_SIZE + 44), zlib.crc32(a.subarray(ENTRY_SIZE, ENTRY_SIZE + 44)), 'entry CRC is CRC-32 of bytes 0..43');
  }), { numRuns: 200 });
});

test('any single flipped bit makes an entry invalid', (t) => {
  const buf = Buffer.alloc(ENTRY_SIZE);
  encodeEntry(buf, 0, 123, 456, 78, 90, 1_700_000_000_000, 0xdeadbeef, 0x01020304);
  for (let bit = 0; bit < ENTRY_SIZE * 8; bit++) {
    const copy = Buffer.from(buf);
    copy[bit >> 3]! ^= 1 << (bit & 7);
    if (entryIsValid(copy, 0)) t.fail(`bit ${bit} went unnoticed`);
  }
  t.false(entryIsValid(Buffer.alloc(ENTRY_SIZE), 0), 'all zeros is not a valid entry');
  t.pass();
});

test('the JS CRC-32 agrees with zlib for every length and offset', (t) => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), fc.nat({ max: 20 }), (bytes, skip) => {
    const s = Math.min(skip, bytes.length);
    t.is(crc32Range(bytes, s, bytes.length), zlib.crc32(bytes.subarray(s)) >>> 0);
    t.is(crc32(bytes), zlib.crc32(bytes) >>> 0);
  }), { numRuns: 300 });
});

test('the word-view readers decode what the byte readers decode, and judge validity the same', (t) => {
  if (!HOST_IS_LE) {
    t.pass('word views are used on little-endian hosts only');
    return;
  }
  fc.assert(fc.property(fields, fc.integer({ min: 0, max: ENTRY_SIZE * 8 - 1 }), fc.boolean(), (f, bit, flip) => {
    const { buf, words } = allocEntryBuffer(ENTRY_SIZE * 3);
    const at = 2 * ENTRY_SIZE;
    const w = at / 4;
    encodeEntry(buf, at, f.metaOffset, f.dataOffset, f.metaLength, f.dataLength, f.timestamp, f.metaCrc, f.dataCrc);
    t.deepEqual(
      {
        metaOffset: wordsMetaOffset(words, w), dataOffset: wordsDataOffset(words, w), metaLength: wordsMetaLength(words, w),
        dataLength: wordsDataLength(words, w), timestamp: wordsTimestamp(words, w), metaCrc: wordsMetaCrc(words, w),
        dataCrc: wordsDataCrc(words, w),
      },
      f,
    );
    if (flip) buf[at + (bit >>> 3)] = buf[at + (bit >>> 3)]! ^ (1 << (bit & 7));
    t.is(entryValidAt(buf, words, at), entryIsValid(buf, at));
    t.is(entryValidAt(buf, words, at), !flip);
  }), { numRuns: 300 });
});

/** `n` valid entries with varied fields, starting `pad` bytes into the buffer. */
function entriesBuffer(n: number, pad = 0): { buf: Buffer; words: Uint32Array } {
  const { buf, words } = allocEntryBuffer(n * ENTRY_SIZE + pad + 4);
  for (let i = 0; i < n; i++) encodeEntry(buf, pad + i * ENTRY_SIZE, i * 128, i * 1000, 128, 1000, 1.7e12 + i, (i * 2654435761) >>> 0, i);
  return { buf, words };
}

test('entriesAllValid: runs of valid entries pass at one native call per run, any length, aligned or not', (t) => {
  for (const n of [1, 2, 3, 100, 8191, 8192, 8193, 20000]) {
    const { buf, words } = entriesBuffer(n);
    t.true(entriesAllValid(buf, words, 0, n), `${n} entries`);
    t.true(entriesAllValid(buf, words, ENTRY_SIZE, n - 1) || n === 1, `${n - 1} entries from the second`);
  }
  const odd = entriesBuffer(300, 2);
  t.true(entriesAllValid(odd.buf, odd.words, 2, 300), 'unaligned start');
  // Every run length up to 600 and around each power of two (the expected CRC is combined from powers of two).
  const { buf, words } = entriesBuffer(8192);
  const lengths = new Set<number>();
  for (let n = 1; n <= 600; n++) lengths.add(n);
  for (let p = 512; p <= 8192; p *= 2) for (const n of [p - 1, p, p + 1]) if (n <= 8192) lengths.add(n);
  for (const n of lengths) t.true(entriesAllValid(buf, words, 0, n), `${n} entries of 8192`);
});

test('entriesAllValid: one damaged byte, two zeroed entries, or a non-zero flags word with a matching CRC fail', (t) => {
  const n = 9000; // more than one run
  for (const victim of [0, 1, 4095, 8191, 8192, 8999]) {
    for (const byte of [0, 17, 40, 44, 47]) {
      const { buf, words } = entriesBuffer(n);
      buf[victim * ENTRY_SIZE + byte] ^= 0x10;
      t.false(entriesAllValid(buf, words, 0, n), `entry ${victim} byte ${byte}`);
      t.false(entryIsValid(buf, victim * ENTRY_SIZE), 'the per-entry check agrees');
    }
  }
  const zeroed = entriesBuffer(n);
  zeroed.buf.fill(0, 10 * ENTRY_SIZE, 12 * ENTRY_SIZE); // a lost page reads back as zeros
  t.false(entriesAllValid(zeroed.buf, zeroed.words, 0, n));
  const flagged = entriesBuffer(50);
  flagged.buf.writeUInt32LE(1, 7 * ENTRY_SIZE + 40);
  flagged.buf.writeUInt32LE(crc32Range(flagged.buf, 7 * ENTRY_SIZE, 7 * ENTRY_SIZE + 44), 7 * ENTRY_SIZE + 44);
  t.false(entryIsValid(flagged.buf, 7 * ENTRY_SIZE), 'flags other than 0 are not a valid entry');
  t.false(entriesAllValid(flagged.buf, flagged.words, 0, 50));
});
