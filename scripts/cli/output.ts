// Writing to stdout with backpressure, and noticing a closed pipe (`| head`) so commands stop quietly.

export class StdoutClosed extends Error {
  constructor() {
    super('stdout closed');
  }
}

let closed = false;
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') closed = true;
  else throw err;
});

/** Writes `text`; resolves once the stream accepted it (waits for 'drain' when its buffer is full). */
export function writeOut(text: string): Promise<void> {
  if (closed) return Promise.reject(new StdoutClosed());
  return new Promise((resolve, reject) => {
    process.stdout.write(text, (err) => {
      if (err) {
        closed = true;
        reject(new StdoutClosed());
      } else resolve();
    });
  });
}

/**
 * Output lines written in chunks of about CHUNK_CHARS characters: one write per line costs more than the rest of a
 * fast command's work per event.
 */
export class LineChunks {
  static readonly CHUNK_CHARS = 64 * 1024;
  private text = '';

  /** Adds a line (without its newline); true when the chunk is full and should be written. */
  add(line: string): boolean {
    this.text += line + '\n';
    return this.text.length >= LineChunks.CHUNK_CHARS;
  }

  /** Writes the lines added since the last write (none: nothing) to stdout, with backpressure. */
  async write(): Promise<void> {
    if (this.text === '') return;
    await writeOut(this.take());
  }

  /** The lines added since the last take (or write), for another destination. */
  take(): string {
    const text = this.text;
    this.text = '';
    return text;
  }
}

/** Formats a millisecond timestamp (null/0 for none). */
export function isoTime(ms: number | null | undefined): string {
  return ms === null || ms === undefined || ms === 0 ? '-' : new Date(ms).toISOString();
}

/** Left-aligned text table. */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n') + '\n';
}
