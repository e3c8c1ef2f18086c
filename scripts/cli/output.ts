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
 * Output lines written in chunks of about CHUNK_CHARS characters (one write per line costs more than the rest of a
 * fast command's work per event), with the events they stand for: those are acknowledged once their chunk is written,
 * so an acknowledged event was handed to the reader, and a reader that leaves mid-chunk leaves the whole chunk
 * unacknowledged.
 */
export class LineChunks {
  static readonly CHUNK_CHARS = 64 * 1024;
  private text = '';
  private events: Array<{ acknowledge(): unknown }> = [];

  /**
   * Adds a line (without its newline; null for an event that prints nothing but is acknowledged with the chunk, so that
   * no acknowledgement passes an event still in it). True when the chunk is full and should be written.
   */
  add(line: string | null, event?: { acknowledge(): unknown }): boolean {
    if (line !== null) this.text += line + '\n';
    if (event !== undefined) this.events.push(event);
    return this.text.length >= LineChunks.CHUNK_CHARS;
  }

  /**
   * Writes the chunk with `write` (to stdout when omitted; `write` resolves false or throws when the reader went
   * away), then acknowledges its events. The chunk is taken at once, so chunks go out in order whoever writes them.
   * Resolves false when the reader went away.
   */
  async write(write: (text: string) => Promise<boolean | void> = writeOut): Promise<boolean> {
    const text = this.text;
    const events = this.events;
    this.text = '';
    this.events = [];
    if (text !== '' && (await write(text)) === false) return false;
    for (const e of events) void e.acknowledge();
    return true;
  }
}

/** A function that runs `fn` once at the end of the current turn of the event loop, however often it is called meanwhile. */
export function atTurnEnd(fn: () => void): () => void {
  let scheduled = false;
  return () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      fn();
    });
  };
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
