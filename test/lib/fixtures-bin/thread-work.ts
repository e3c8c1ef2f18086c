// Selector, allocator and processor modules for the thread-pool tests: they run in worker threads (and inline).
// Processors append one line per event to the file named by DIASPORA_THREAD_LOG (O_APPEND writes of one short line
// do not interleave): "P <threadId> <partition> <id> <data size> <data hex> <data buffer byteLength>".
import fs from 'node:fs';
import { threadId } from 'node:worker_threads';
import { bufferAllocator, DataDescriptor, StopEventProcessor, type Event, type JsonValue } from '../../../lib/index.js';

interface Meta {
  i?: number;
  fail?: boolean;
  stop?: boolean;
  /** Milliseconds the processor waits (asynchronously) before finishing. */
  delay?: number;
  /** Milliseconds the processor keeps its thread busy (synchronously). */
  spin?: number;
  /** A file: the processor waits until it exists before finishing. */
  waitFor?: string;
}

function log(line: string): void {
  const file = process.env.DIASPORA_THREAD_LOG;
  if (file) fs.appendFileSync(file, line + '\n');
}

function describe(event: Event): string {
  const bytes = event.data.toBuffer();
  const backing = event.data.segments[0]?.buffer.byteLength ?? 0;
  return `P ${threadId} ${event.partition} ${event.id} ${event.data.size} ${bytes.toString('hex') || '-'} ${backing}`;
}

/** Logs the event, then acknowledges it. Honors `delay`, `spin`, `fail` and `stop` in the metadata. */
export default async function record(event: Event): Promise<void> {
  const m = event.metadata as Meta;
  if (m.spin) {
    const until = Date.now() + m.spin;
    while (Date.now() < until);
  }
  if (m.delay) await new Promise((r) => setTimeout(r, m.delay));
  while (m.waitFor && !fs.existsSync(m.waitFor)) await new Promise((r) => setTimeout(r, 5));
  if (m.stop) throw new StopEventProcessor();
  if (m.fail) throw new Error(`boom at ${event.partition}/${event.id}`);
  log(describe(event));
  event.acknowledge();
}

/** Logs the event and never acknowledges. */
export function recordOnly(event: Event): void {
  log(describe(event));
}

/** Bytes 2..5 of the data (a zero-copy sub view). */
export function middle(_metadata: JsonValue, d: DataDescriptor): DataDescriptor {
  return d.makeSubView(2, 4);
}

/** Two pieces: bytes 0..1 and 4..5 (a gathered copy needs an allocator to be one buffer). */
export function pieces(_metadata: JsonValue, d: DataDescriptor): DataDescriptor {
  return d.makeUnstructuredView([
    [0, 2],
    [4, 2],
  ]);
}

export { bufferAllocator };

/** Not a function: loading it as work must fail with BAD_CONFIG. */
export const notAFunction = 42;

/** Ends the worker thread it runs in (process.exit in a worker ends that thread only) at event 3. */
export function exitThreadAt3(event: Event): void {
  if (event.id === 3) process.exit(3);
  log(describe(event));
  event.acknowledge();
}
