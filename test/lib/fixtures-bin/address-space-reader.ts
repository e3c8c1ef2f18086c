// Child process: reads a topic (whose last segment is still open for growth) with its address space limited to what
// it uses now plus `marginMiB` (RLIMIT_AS, set on itself with prlimit(1)). Prints one JSON line: how many events it
// read, and the error it met ({ code, message }) if any. argv: root topic marginMiB
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { DiasporaError, Driver } from '../../../lib/index.js';

const [root, topicName, marginArg] = process.argv.slice(2);
const d = await Driver.create('files', { root_path: root });
const topic = await d.openTopic(topicName);
const consumer = await topic.consumer('reader', { durable: false, until: 'end' });
const vmKiB = Number(/VmSize:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1]);
const limit = vmKiB * 1024 + Number(marginArg) * 2 ** 20;
execFileSync('prlimit', ['--pid', String(process.pid), `--as=${limit}`]);
let events = 0;
let bytes = 0;
let error: { code: string; message: string } | null = null;
try {
  await consumer.process((e) => {
    events++;
    bytes += e.data.size;
  });
} catch (err) {
  error = { code: err instanceof DiasporaError ? err.code : `not a DiasporaError: ${(err as Error)?.name}`, message: String((err as Error)?.message ?? err) };
}
console.log(JSON.stringify({ events, bytes, error }));
try {
  await consumer.close();
  await d.close();
} catch {
  // the result is printed
}
