// Micro-benchmark of lib/data's selectData: cost per event of the zero-copy path and of gathered copies,
// each printed beside a raw baseline measured in the same run (a bare subarray / a bare memcpy of the same bytes).
// Run: npx tsc -p tsconfig.json && node dist/scripts/bench/data-selection.js
import { DataDescriptor } from '../../lib/data/data-descriptor.js';
import { bufferAllocator, fullDataSelector, selectData, selectEventData } from '../../lib/data/selection.js';
import type { DataSelector } from '../../lib/data/selection.js';

const EVENT = 1024;
const EVENTS = 4096; // distinct events in a 4 MiB "segment", visited round robin
const segment = Buffer.alloc(EVENT * EVENTS, 0x5a);
let sink = 0;

function measure(name: string, iterations: number, body: (i: number) => number): number {
  for (let i = 0; i < Math.min(iterations, 200_000); i++) sink += body(i); // warm up
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) sink += body(i);
  const ns = Number(process.hrtime.bigint() - start) / iterations;
  console.log(`${name.padEnd(58)} ${ns.toFixed(1).padStart(8)} ns/event  ${(1e9 / ns).toFixed(0).padStart(11)} events/s`);
  return ns;
}

const slice = (i: number) => {
  const at = (i % EVENTS) * EVENT;
  return segment.subarray(at, at + EVENT);
};

console.log(`selectData on ${EVENT}-byte events (node ${process.version})`);
const base = measure('baseline: one subarray + array of it', 5_000_000, (i) => [slice(i)].length);
const fast = measure('selectData, no selector, no allocator (zero copy)', 5_000_000, (i) =>
  selectData(null, EVENT, () => slice(i)).size,
);
console.log(`  -> cost beyond the baseline: ${(fast - base).toFixed(1)} ns/event`);
measure('selectData, fullDataSelector (zero copy)', 5_000_000, (i) =>
  selectData(null, EVENT, () => slice(i), fullDataSelector).size,
);
measure('selectData, sub view 128..640 (zero copy)', 2_000_000, (i) =>
  selectData(null, EVENT, () => slice(i), (_m, d) => d.makeSubView(128, 512)).size,
);

// The consumer's path: the engine's record is the data source (a fresh one per event, as the engine makes them).
// Workload (d) of run-all: nothing selected vs the first 256 bytes of every other event (the difference is the
// per-event price of delivering data; (d) asks for >= 90% of the metadata-only rate end to end).
class SliceRecord {
  readonly dataSize = EVENT;
  constructor(private readonly index: number) {}
  data(): Uint8Array {
    return this.dataSlice(0, EVENT);
  }
  dataSlice(offset: number, size: number): Uint8Array {
    const at = (this.index % EVENTS) * EVENT + offset;
    return new Uint8Array(segment.buffer, segment.byteOffset + at, size); // as the files engine does
  }
}
let counter = 0;
const everyOther: DataSelector = (_m, d) => ((counter++ & 1) === 0 ? null : d.makeSubView(0, 256));
const none = measure('selectEventData, record, none selected', 5_000_000, (i) =>
  selectEventData(null, new SliceRecord(i), () => null, undefined).size,
);
const half = measure('selectEventData, record, 256 B of every other event', 5_000_000, (i) =>
  selectEventData(null, new SliceRecord(i), everyOther, undefined).size,
);
console.log(`  -> ${((half - none) * 2).toFixed(1)} ns per selected event`);

// Gathered copies: a 32x32 image, rectangle 16 rows x 24 bytes at (4, 8).
const W = 32;
const rectangle: DataSelector = (_m, d) => d.makeSubView(8 * W + 4, W * 16).makeStridedView(0, 16, 24, W - 24);
const rectBytes = 16 * 24;
const target = Buffer.alloc(EVENT);
measure('baseline: Buffer.copy of 1024 contiguous bytes', 2_000_000, (i) => slice(i).copy(target, 0));
measure('selectData, full data, bufferAllocator (gathered copy)', 2_000_000, (i) =>
  selectData(null, EVENT, () => slice(i), fullDataSelector, bufferAllocator).size,
);
measure('selectData, full data, into one reused buffer', 2_000_000, (i) =>
  selectData(null, EVENT, () => slice(i), fullDataSelector, () => target).size,
);
measure(`baseline: 16 Buffer.copy of 24 bytes (${rectBytes} B)`, 2_000_000, (i) => {
  const s = slice(i);
  for (let r = 0; r < 16; r++) s.copy(target, r * 24, (8 + r) * W + 4, (8 + r) * W + 28);
  return 16;
});
measure(`selectData, rectangle (sub+strided), reused buffer`, 1_000_000, (i) =>
  selectData(null, EVENT, () => slice(i), rectangle, () => target).size,
);
measure(`selectData, rectangle, zero copy (16 slices)`, 1_000_000, (i) =>
  selectData(null, EVENT, () => slice(i), rectangle).size,
);

// Big gathered copy: memcpy speed.
const big = Buffer.alloc(64 << 20, 1);
const bigTarget = Buffer.alloc(64 << 20);
const bigDescriptor = new DataDescriptor('', big.length).makeStridedView(0, 64, 1 << 20, 0);
const copyNs = measure('baseline: Buffer.copy of 64 MiB', 20, () => big.copy(bigTarget));
const gatherNs = measure('selectData, 64 MiB into one reused buffer', 20, () =>
  selectData(null, big.length, () => big, () => bigDescriptor, () => bigTarget).size,
);
console.log(`  -> gather ${((64 / (gatherNs / 1e9)) | 0)} MiB/s vs memcpy ${((64 / (copyNs / 1e9)) | 0)} MiB/s`);
if (sink === -1) console.log(sink);
