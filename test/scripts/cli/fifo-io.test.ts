// Writes of a consumer FIFO: whole lines per write(2), at most PIPE_BUF bytes, one at a time, so that a bridge killed
// at any moment leaves no torn line in the pipe for its successor to glue its first line to.
import test from 'ava';
import type net from 'node:net';
import { PIPE_ATOMIC_BYTES, writeLinesAtomically } from '../../../scripts/cli/fifo-io.js';

/** A socket that records each write and completes it on the next turn (so overlapping writes would show). */
function recordingSocket(failAt = Infinity): { socket: net.Socket; writes: Buffer[]; maxInFlight: () => number } {
  const writes: Buffer[] = [];
  let inFlight = 0;
  let max = 0;
  const socket = {
    destroyed: false,
    write(chunk: Uint8Array, cb: (err?: Error) => void): boolean {
      writes.push(Buffer.from(chunk));
      inFlight++;
      max = Math.max(max, inFlight);
      setImmediate(() => {
        inFlight--;
        cb(writes.length >= failAt ? new Error('EPIPE') : undefined);
      });
      return true;
    },
  } as unknown as net.Socket;
  return { socket, writes, maxInFlight: () => max };
}

test('lines go out in whole-line writes of at most PIPE_BUF bytes, one at a time; a longer line goes alone', async (t) => {
  const lines = [];
  for (let i = 0; i < 2000; i++) lines.push(JSON.stringify({ s: i, pad: 'é'.repeat(i % 37) }));
  lines.splice(700, 0, 'x'.repeat(10_000)); // one line longer than PIPE_BUF
  const text = lines.join('\n') + '\n';
  const { socket, writes, maxInFlight } = recordingSocket();
  t.true(await writeLinesAtomically(socket, text));
  t.is(Buffer.concat(writes).toString('utf8'), text);
  t.is(maxInFlight(), 1);
  for (const w of writes) {
    t.is(w[w.length - 1], 0x0a, 'every write ends a line');
    if (w.length > PIPE_ATOMIC_BYTES) t.is(w.toString().split('\n').length, 2, 'only a single line may exceed PIPE_BUF');
  }
  t.true(writes.length > text.length / PIPE_ATOMIC_BYTES);
});

test('a reader that goes away: false, nothing more written', async (t) => {
  const text = Array.from({ length: 3000 }, (_, i) => `{"s":${i}}`).join('\n') + '\n';
  const { socket, writes } = recordingSocket(2);
  t.false(await writeLinesAtomically(socket, text));
  t.is(writes.length, 2);
});
