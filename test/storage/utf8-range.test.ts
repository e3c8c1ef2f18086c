import test from 'ava';
import { decodeUtf8Range } from '../../storage/utf8-range.js';

const bytes = (...parts: (string | number[])[]): Buffer =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));

test('decodes a range of a buffer as UTF-8: ASCII, multi-byte text, and only the bytes asked for', (t) => {
  const buf = bytes('xx{"a":"é€😀"}yy');
  t.is(decodeUtf8Range(buf, 2, buf.length - 2), '{"a":"é€😀"}');
  t.is(decodeUtf8Range(buf, 0, 2), 'xx');
  t.is(decodeUtf8Range(buf, 3, 3), '');
});

test('a genuine U+FFFD in valid text is kept (the strict decoder re-checks it and agrees)', (t) => {
  const buf = bytes('"a', [0xef, 0xbf, 0xbd], 'b"');
  t.is(decodeUtf8Range(buf, 0, buf.length), '"a\uFFFDb"');
});

test('invalid UTF-8 throws a TypeError as a fatal TextDecoder does, instead of being replaced', (t) => {
  const cases = [
    bytes('"', [0xff], '"'), // never valid
    bytes('"', [0xc3, 0x28], '"'), // bad continuation
    bytes('"', [0xc0, 0xaf], '"'), // overlong
    bytes('"', [0xed, 0xa0, 0x80], '"'), // encoded surrogate
    bytes('"ab', [0xe2, 0x82]), // truncated at the end of the range
  ];
  for (const buf of cases) t.throws(() => decodeUtf8Range(buf, 0, buf.length), { instanceOf: TypeError }, buf.toString('hex'));
  // The same bytes outside the range do not matter.
  const around = bytes([0xff], '{}', [0xff]);
  t.is(decodeUtf8Range(around, 1, 3), '{}');
});
