// UTF-8 text straight from a range of a Buffer (a mapping), strict like a fatal TextDecoder but without making a
// view first: Buffer's native slice decoder replaces invalid sequences with U+FFFD, so a result holding U+FFFD is
// decoded again strictly (which throws for invalid bytes, and returns the same text for a genuine U+FFFD).
// Measured on 128-byte metadata: 77 ns, against 116 ns for a view plus TextDecoder.
const strict = new TextDecoder('utf-8', { fatal: true });

type Utf8Slicer = (this: Buffer, start: number, end: number) => string;
// Node's Buffer.prototype.utf8Slice (what toString('utf8') calls, minus its argument handling); toString otherwise.
const slice: Utf8Slicer =
  typeof (Buffer.prototype as unknown as { utf8Slice?: unknown }).utf8Slice === 'function'
    ? (Buffer.prototype as unknown as { utf8Slice: Utf8Slicer }).utf8Slice
    : function (this: Buffer, start: number, end: number) {
        return this.toString('utf8', start, end);
      };

/** Bytes [start, end) of `buf` as UTF-8 text; throws a TypeError for invalid UTF-8. */
export function decodeUtf8Range(buf: Buffer, start: number, end: number): string {
  const text = slice.call(buf, start, end);
  if (text.indexOf('\uFFFD') >= 0) return strict.decode(buf.subarray(start, end));
  return text;
}
