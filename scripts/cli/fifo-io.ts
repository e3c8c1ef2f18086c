// Non-blocking FIFO endpoints on the event loop (never on the libuv threadpool, never spinning).
// A reader keeps a write end of its own FIFO open, so it never sees end-of-file and keeps serving later writers.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { StringDecoder } from 'node:string_decoder';

const { O_RDONLY, O_WRONLY, O_NONBLOCK } = fs.constants;

export function isFifo(path: string): boolean {
  try {
    return fs.statSync(path).isFIFO();
  } catch {
    return false;
  }
}

/** Creates a FIFO (mode 0666 minus umask); an existing FIFO is kept, any other file is an error. */
export function ensureFifo(path: string): void {
  if (isFifo(path)) return;
  if (fs.existsSync(path)) throw new Error(`"${path}" exists and is not a FIFO`);
  execFileSync('mkfifo', ['-m', '666', path]);
}

/** Reads a FIFO line by line for as long as it is open. */
export class FifoLineReader {
  private readonly socket: net.Socket;
  private readonly keepAliveFd: number;
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';
  private closed = false;

  constructor(
    readonly path: string,
    onLines: (lines: string[]) => void,
    onError: (err: Error) => void,
  ) {
    const fd = fs.openSync(path, O_RDONLY | O_NONBLOCK);
    try {
      this.keepAliveFd = fs.openSync(path, O_WRONLY | O_NONBLOCK);
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
    this.socket = new net.Socket({ fd, readable: true, writable: false });
    this.socket.on('data', (chunk: Buffer) => {
      const text = this.partial + this.decoder.write(chunk);
      const lines = text.split('\n');
      this.partial = lines.pop() ?? '';
      if (lines.length > 0) onLines(lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l)));
    });
    this.socket.on('error', (err) => {
      if (!this.closed) onError(err);
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    fs.closeSync(this.keepAliveFd);
  }
}

/**
 * Opens a FIFO for writing once a reader has it open (ENXIO before that), checking every `retryMs` until
 * `signal` aborts. Resolves to a socket, or undefined when aborted.
 */
export async function openFifoWriter(path: string, signal: AbortSignal, retryMs = 100): Promise<net.Socket | undefined> {
  while (!signal.aborted) {
    try {
      const fd = fs.openSync(path, O_WRONLY | O_NONBLOCK);
      const socket = new net.Socket({ fd, readable: false, writable: true });
      socket.on('error', () => socket.destroy()); // reported to writeLinesAtomically's callback as well
      return socket;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENXIO') throw err;
    }
    await new Promise<void>((resolve) => {
      const onAbort = (): void => {
        clearTimeout(t);
        resolve();
      };
      const t = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, retryMs);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
  return undefined;
}

/**
 * A second write descriptor held across write sessions of a consumer FIFO. A reader that opens the FIFO just as
 * the previous session's descriptor is being closed (its reader gone, EPIPE) would otherwise see no writer left and
 * read end-of-file; with this one open, it waits for the next session's lines instead. Opened when a reader is
 * present (undefined if it already left); closing it at shutdown gives readers their end-of-file.
 */
export function openFifoKeeper(path: string): number | undefined {
  try {
    return fs.openSync(path, O_WRONLY | O_NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENXIO') return undefined;
    throw err;
  }
}

/** Linux's PIPE_BUF: a write to a pipe of at most this many bytes is never split, nor mixed with another. */
export const PIPE_ATOMIC_BYTES = 4096;

/**
 * Writes whole lines (`text` ends with a newline) to a FIFO so that a process killed at any moment leaves no part
 * of a line in the pipe: each write(2) carries whole lines, at most PIPE_ATOMIC_BYTES (a single longer line goes
 * alone and is not atomic), and the next one waits for it (queued writes would be merged into one writev).
 * A bridge restarted after a SIGKILL otherwise wrote its first line right after the torn one (`{"s"{"s":13310}`).
 */
export async function writeLinesAtomically(socket: net.Socket, text: string): Promise<boolean> {
  // Resolves false if the reader went away (EPIPE and the like).
  const bytes = Buffer.from(text, 'utf8');
  let from = 0;
  while (from < bytes.length) {
    let to = Math.min(bytes.length, from + PIPE_ATOMIC_BYTES);
    if (to < bytes.length) {
      const lastNewline = bytes.lastIndexOf(0x0a, to - 1);
      to = lastNewline >= from ? lastNewline + 1 : bytes.indexOf(0x0a, to) + 1 || bytes.length;
    }
    if (socket.destroyed) return false;
    const ok = await new Promise<boolean>((resolve) => socket.write(bytes.subarray(from, to), (err) => resolve(!err)));
    if (!ok) return false;
    from = to;
  }
  return true;
}
