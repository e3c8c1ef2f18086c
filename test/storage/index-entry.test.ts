import test from 'ava';
import zlib from 'node:zlib';
import fc from 'fast-check';
import {
  ENTRY_SIZE, HOST_IS_LE, allocEntryBuffer, decodeEntry, encodeEntry, encodeEntryWords, entryIsValid, entryValidAt,
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
