// Lines of a stream handed over a chunk at a time. `for await (const line of readline)` resumes the caller once per
// line, each time a microtask later: a producer with adaptive batching then commits every line alone (one write per
// event). Here all the lines a chunk completes are handed over together, so the caller pushes them in one job and
// they form one batch, while a line arriving alone is still handed over (and committed) at once.
// Line breaks are those of readline with crlfDelay: Infinity: "\r\n", "\n" or a lone "\r".
import { StringDecoder } from 'node:string_decoder';

const LINE_BREAK = /\r\n|\n|\r/;

/** Splitting on a string is a native search; the regular expression (needed only with '\r') scans every character. */
function splitLines(text: string): string[] {
  return text.includes('\r') ? text.split(LINE_BREAK) : text.split('\n');
}

export interface LineBatch {
  /** The lines completed by this chunk (without their breaks; empty lines included). */
  lines: string[];
  /** Bytes of input read with this chunk. */
  bytes: number;
}

export async function* lineBatches(input: AsyncIterable<Buffer | string>): AsyncGenerator<LineBatch> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  for await (const chunk of input) {
    const bytes = typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    const text = rest + (typeof chunk === 'string' ? chunk : decoder.write(chunk));
    // A final '\r' may be the first half of a "\r\n" split between chunks: it waits for the next chunk.
    const end = text.length > 0 && text.charCodeAt(text.length - 1) === 13 ? text.length - 1 : text.length;
    const lines = splitLines(text.slice(0, end));
    rest = lines.pop()! + text.slice(end);
    yield { lines, bytes };
  }
  const lines = splitLines(rest + decoder.end());
  if (lines[lines.length - 1] === '') lines.pop(); // the input ended with a line break
  if (lines.length > 0) yield { lines, bytes: 0 };
}
