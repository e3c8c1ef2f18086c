// The producer's metadata arena: pushed JSON text is encoded back to back into shared chunks, checked there, and a
// byte once handed out is never written again (memory and nats drivers keep the views as stored metadata).
import test from 'ava';
import { DiasporaError, ErrorCode } from '../../lib/index.js';
import { MetadataArena } from '../../lib/metadata-arena.js';

const badJson = (t: import('ava').ExecutionContext, fn: () => unknown): void => {
  const err = t.throws(fn, { instanceOf: DiasporaError });
  t.is(err?.code, ErrorCode.BAD_JSON);
};

test('encodeJson returns the UTF-8 of the text itself, whitespace and key order kept', (t) => {
  const text = '{ "b": 1,\n  "a": [true, null, "é", "😀"] }';
  t.deepEqual(Buffer.from(new MetadataArena().encodeJson(text)), Buffer.from(text, 'utf8'));
});

test('a lone surrogate is BAD_JSON (it has no UTF-8 form: nothing is replaced by U+FFFD)', (t) => {
  const arena = new MetadataArena();
  badJson(t, () => arena.encodeJson('{"a":"\ud800"}'));
  badJson(t, () => arena.encodeJson('"\udc00x"'));
  badJson(t, () => arena.encodeJson('x'.repeat(10_000) + '\ud800')); // the own-buffer path too
});

test('consecutive texts lie back to back in one chunk; a failed check claims nothing', (t) => {
  const arena = new MetadataArena();
  const a = arena.encodeJson('{"i":1}');
  badJson(t, () => arena.encodeJson('{"i":2,}'));
  const b = arena.encodeJson('[2]');
  const c = arena.copyJson(Buffer.from('"é"'));
  t.is(b.buffer, a.buffer);
  t.is(b.byteOffset, a.byteOffset + a.length);
  t.is(c.byteOffset, b.byteOffset + b.length);
  t.is(Buffer.from(a).toString(), '{"i":1}');
  t.is(Buffer.from(b).toString(), '[2]');
  t.is(Buffer.from(c).toString(), '"é"');
});

test('views handed out are never overwritten, across chunk changes and failures', (t) => {
  const arena = new MetadataArena();
  const kept: { view: Uint8Array; text: string }[] = [];
  for (let i = 0; i < 3000; i++) {
    const text = `{"i":${i},"pad":"${'x'.repeat(i % 200)}","u":"é€😀"}`;
    kept.push({ view: arena.encodeJson(text), text });
    if (i % 7 === 0) badJson(t, () => arena.encodeJson(`{"i":${i},"pad":"${'y'.repeat(i % 300)}"`));
    if (i % 11 === 0) badJson(t, () => arena.copyJson(Uint8Array.from([0x22, 0xff, 0x22])));
  }
  const chunks = new Set(kept.map((k) => k.view.buffer));
  t.true(chunks.size > 1, 'the test must cross chunk boundaries');
  for (const { view, text } of kept) t.is(Buffer.from(view).toString('utf8'), text);
});

test('copyJson copies: a later change to the caller\'s array does not reach the stored bytes', (t) => {
  const arena = new MetadataArena();
  const mine = Buffer.from('{"a":1}');
  const stored = arena.copyJson(mine);
  mine.write('{"b":2}');
  t.is(Buffer.from(stored).toString(), '{"a":1}');
  badJson(t, () => arena.copyJson(Buffer.from('{"a":')));
  badJson(t, () => arena.copyJson(Uint8Array.from([0x22, 0xc0, 0xaf, 0x22])));
});

test('a text too big for a chunk gets a buffer of its own, checked the same way', (t) => {
  const arena = new MetadataArena();
  const big = `{"pad":"${'z'.repeat(200_000)}"}`;
  const view = arena.encodeJson(big);
  t.is(view.length, big.length);
  t.is(Buffer.from(view).toString(), big);
  const copied = arena.copyJson(Buffer.from(big));
  t.is(Buffer.from(copied).toString(), big);
  badJson(t, () => arena.encodeJson(big.slice(0, -1)));
  badJson(t, () => arena.copyJson(Buffer.from(big.slice(0, -1))));
});
