// lineBatches splits a stream into lines exactly as readline (crlfDelay: Infinity) does, whatever the chunking, and
// hands over all the lines a chunk completes at once.
import { Readable } from 'node:stream';
import readline from 'node:readline';
import test from 'ava';
import fc from 'fast-check';
import { lineBatches } from '../../../scripts/cli/line-batches.js';

async function viaReadline(chunks: Buffer[]): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of readline.createInterface({ input: Readable.from(chunks), crlfDelay: Infinity })) lines.push(line);
  return lines;
}

async function viaBatches(chunks: Buffer[]): Promise<{ lines: string[]; batches: string[][]; bytes: number }> {
  const batches: string[][] = [];
  let bytes = 0;
  for await (const b of lineBatches(Readable.from(chunks))) {
    batches.push(b.lines);
    bytes += b.bytes;
  }
  return { lines: batches.flat(), batches, bytes };
}

/** `bytes` cut at the given offsets. */
function cut(bytes: Buffer, at: number[]): Buffer[] {
  const points = [...new Set(at.map((a) => a % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const p of [...points, bytes.length]) {
    if (p > from) out.push(bytes.subarray(from, p));
    from = Math.max(from, p);
  }
  return out;
}

test('the same lines as readline for any text and any chunking (CRLF and multi-byte characters split between chunks)', async (t) => {
  const piece = fc.constantFrom('a', 'é', '😀', '\n', '\r', '\r\n', '\n\n', ' ', '{"k":1}', '');
  await fc.assert(
    fc.asyncProperty(fc.array(piece, { maxLength: 40 }), fc.array(fc.nat(), { maxLength: 12 }), async (pieces, at) => {
      const bytes = Buffer.from(pieces.join(''), 'utf8');
      const chunks = cut(bytes, at);
      const got = await viaBatches(chunks);
      t.deepEqual(got.lines, await viaReadline(chunks), JSON.stringify(pieces));
      t.is(got.bytes, bytes.length);
    }),
    { numRuns: 300 },
  );
});

test('all the lines a chunk completes come together; a line completed by a later chunk comes with that chunk', async (t) => {
  const chunks = [Buffer.from('one\ntwo\nthr'), Buffer.from('ee\nfour\r'), Buffer.from('\nfive')];
  const { batches } = await viaBatches(chunks);
  t.deepEqual(batches, [['one', 'two'], ['three'], ['four'], ['five']]);
});
