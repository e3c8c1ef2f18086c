// Measures ConsumerOffsets.store (µs per call) beside a raw 32-byte pwrite baseline measured in the same run.
// Not a test (no timing assertions anywhere): `node dist/test/storage/fixtures-bin/consumer-store-cost.js [count]`.
import fs from 'node:fs';
import { join } from 'node:path';
import { ConsumerOffsets } from '../../../storage/consumer-offsets.js';
import type { FlushBehavior } from '../../../storage/types.js';
import { ownedTempDir } from '../../temp-dir.js';

const count = Number(process.argv[2] ?? 200_000);
const temp = ownedTempDir('ds-store-cost-');
const root = temp.path;
try {
  const rawFd = fs.openSync(join(root, 'raw'), 'w+');
  const buf = Buffer.alloc(32, 1);
  const rawNs = time(count, (i) => fs.writeSync(rawFd, buf, 0, 32, (i & 1) * 32));
  fs.closeSync(rawFd);
  console.log(`raw pwrite(32 B)            : ${(rawNs / count / 1000).toFixed(2)} µs/call (${count} calls)`);
  const modes: FlushBehavior[] = ['buffered', 'on_flush', 'immediate'];
  for (const mode of modes) {
    const n = mode === 'immediate' ? Math.min(count, 2000) : count;
    const offsets = ConsumerOffsets.open(root, `bench-${mode}`, { flushBehavior: mode });
    offsets.store(0, 0); // opens and sizes the file outside the timed loop
    const ns = time(n, (i) => offsets.store(0, i + 1));
    offsets.close();
    console.log(`store, flushBehavior=${mode.padEnd(9)}: ${(ns / n / 1000).toFixed(2)} µs/call (${n} calls)`);
  }
} finally {
  temp.remove();
}

function time(n: number, fn: (i: number) => void): number {
  for (let i = 0; i < Math.min(n, 1000); i++) fn(i); // warm-up
  const t0 = process.hrtime.bigint();
  for (let i = 1000; i < n + 1000; i++) fn(i);
  return Number(process.hrtime.bigint() - t0);
}
