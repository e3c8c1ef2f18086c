// One phase of the user-path benchmark, alone in a fresh process (so start-up, JIT warm-up and peak RSS are the
// phase's own, as in an application): argv[2] is a JSON Job. Prints "READY" (live consumers, once waiting) and one
// "RESULT {json}" line. The timed part is the produce or consume call (producer/consumer creation included),
// not opening the driver.
import fs from 'node:fs';
import path from 'node:path';
import { Driver, ErrorCode, type DataDescriptor, type EventBatch } from '../../../lib/index.js';
import { mapFile } from '../../../storage/map-file.js';
import { BATCH, SELECT_BYTES, SELECT_ENERGY_ABOVE, WORKLOADS, dataSource, makeChecker, metaText } from './events.js';

export interface Job {
  engine: 'diaspora' | 'raw';
  role: 'produce' | 'consume' | 'select';
  workload: string;
  dir: string;
  /** diaspora: wait for events not written yet (consumer started before the producer). */
  live?: boolean;
  /** diaspora: the files driver's verify_data (default true). */
  verifyData?: boolean;
  /** A tenth of the events (smoke test). */
  quick?: boolean;
  /** diaspora consumers: hand the checker metadataBytes instead of metadataText. */
  metadataBytes?: boolean;
}

export interface PhaseResult {
  events: number;
  /** Metadata + data bytes produced or delivered. */
  bytes: number;
  seconds: number;
  maxRssMiB: number;
  cpuMs: number;
  /** Wall clock (ms since the epoch) of the timed part's start and end, to line up concurrent phases. */
  tStart: number;
  tEnd: number;
  error?: string;
}

const job = JSON.parse(process.argv[2]) as Job;
const w = job.quick ? { ...WORKLOADS[job.workload], events: WORKLOADS[job.workload].events / 10 } : WORKLOADS[job.workload];
const dataOf = dataSource(w.dataSize);

async function diasporaProduce(driver: Driver): Promise<number> {
  const topic = await driver.openTopic('bench');
  const t0 = performance.now();
  const producer = topic.producer({ name: 'bench', batchSize: BATCH });
  let last;
  for (let i = 0; i < w.events; i++) {
    const data = dataOf(i);
    last = producer.push(metaText(i), data ?? undefined);
    if ((i + 1) % BATCH === 0) await last; // written inside the 128th push: committed now
  }
  await producer.flush();
  await last;
  await producer.close();
  return performance.now() - t0;
}

async function diasporaConsume(driver: Driver, selected: boolean): Promise<{ ms: number; bytes: number }> {
  const topic = await driver.openTopic('bench');
  const check = makeChecker(dataOf, selected);
  const t0 = performance.now();
  // One consumer name per kind of read: each starts at the beginning (a name resumes after its acknowledgements).
  const consumer = await topic.consumer(`${selected ? 'select' : 'all'}${job.verifyData === false ? '-unverified' : ''}`, {
    batchSize: BATCH,
    until: job.live ? undefined : 'end',
    dataSelector: selected
      ? (md, d: DataDescriptor) => ((md as { energy: number }).energy > SELECT_ENERGY_ABOVE ? d.makeSubView(0, SELECT_BYTES) : null)
      : undefined,
  });
  let seen = 0;
  let bytes = 0;
  let lastAck;
  // A batch at a time (consecutive events of the partition, at most BATCH), as an application forwarding events in
  // bulk reads them; one acknowledgement per batch, so at least every BATCH events.
  const onBatch = (b: EventBatch): void => {
    for (let i = 0; i < b.length; i++) {
      const data = b.dataBytes(i);
      bytes += check(seen, job.metadataBytes ? b.metadataBytes(i) : b.metadataText(i), data.length === 0 ? null : data);
      bytes += 128;
      seen++;
    }
    lastAck = b.acknowledge();
  };
  try {
    const n = await consumer.processBatches(onBatch, { maxEvents: w.events });
    if (n !== w.events) throw new Error(`log ended after ${n} of ${w.events} events`);
    await lastAck;
  } finally {
    await consumer.close();
  }
  return { ms: performance.now() - t0, bytes };
}

/** Raw baseline writer: [u32 metaLen][u32 dataLen][meta][data] records, one write per batch (writev for big data). */
function rawProduce(): number {
  const file = path.join(job.dir, 'raw.log');
  const t0 = performance.now();
  const fd = fs.openSync(file, 'a');
  const per = 8 + 128 + w.dataSize;
  const big = per * BATCH > 1 << 20;
  const batch = Buffer.allocUnsafe(big ? 8 + 128 : per * BATCH);
  for (let s = 0; s < w.events; s += BATCH) {
    const e = Math.min(w.events, s + BATCH);
    if (big) {
      const pieces: Uint8Array[] = [];
      for (let i = s; i < e; i++) {
        const head = Buffer.allocUnsafe(8 + 128);
        const m = head.write(metaText(i), 8, 'latin1');
        const d = dataOf(i);
        head.writeUInt32LE(m, 0);
        head.writeUInt32LE(d ? d.length : 0, 4);
        pieces.push(head.subarray(0, 8 + m));
        if (d) pieces.push(d);
      }
      fs.writevSync(fd, pieces);
    } else {
      let at = 0;
      for (let i = s; i < e; i++) {
        const m = batch.write(metaText(i), at + 8, 'latin1');
        const d = dataOf(i);
        batch.writeUInt32LE(m, at);
        batch.writeUInt32LE(d ? d.length : 0, at + 4);
        at += 8 + m;
        if (d) at += d.copy(batch, at);
      }
      fs.writeSync(fd, batch, 0, at);
    }
  }
  fs.closeSync(fd);
  return performance.now() - t0;
}

/** Raw baseline reader: the whole log mapped, records walked as zero-copy slices, a 16-byte cursor file per batch. */
function rawConsume(selected: boolean): { ms: number; bytes: number } {
  const check = makeChecker(dataOf, selected);
  const t0 = performance.now();
  const fd = fs.openSync(path.join(job.dir, 'raw.log'), 'r');
  const size = fs.fstatSync(fd).size;
  const map = mapFile(fd, size);
  const cursorFd = fs.openSync(path.join(job.dir, `raw.${selected ? 'select' : 'all'}.cursor`), 'w');
  const cursor = Buffer.alloc(16);
  let at = 0;
  let bytes = 0;
  for (let i = 0; i < w.events; i++) {
    const m = map.readUInt32LE(at);
    const d = map.readUInt32LE(at + 4);
    const meta = map.subarray(at + 8, at + 8 + m);
    let data: Uint8Array | null = d === 0 ? null : map.subarray(at + 8 + m, at + 8 + m + d);
    if (selected && data) {
      const energy = (JSON.parse(meta.toString('latin1')) as { energy: number }).energy;
      data = energy > SELECT_ENERGY_ABOVE ? data.subarray(0, SELECT_BYTES) : null;
    }
    bytes += m + check(i, meta, data);
    at += 8 + m + d;
    if ((i + 1) % BATCH === 0 || i + 1 === w.events) {
      cursor.writeDoubleLE(at, 0);
      cursor.writeDoubleLE(i + 1, 8);
      fs.writeSync(cursorFd, cursor, 0, 16, 0);
    }
  }
  fs.closeSync(cursorFd);
  fs.closeSync(fd);
  return { ms: performance.now() - t0, bytes };
}

async function main(): Promise<PhaseResult> {
  const produced = w.events * (128 + w.dataSize);
  if (job.engine === 'raw') {
    if (job.role === 'produce') return finish(w.events, produced, rawProduce());
    const r = rawConsume(job.role === 'select');
    return finish(w.events, r.bytes, r.ms);
  }
  const driver = await Driver.create('files', { root_path: job.dir, verify_data: job.verifyData ?? true });
  try {
    try {
      await driver.createTopic('bench', { options: { num_partitions: 1 } });
    } catch (err) {
      if ((err as { code?: string }).code !== ErrorCode.TOPIC_EXISTS) throw err;
    }
    if (job.role === 'produce') return finish(w.events, produced, await diasporaProduce(driver));
    if (job.live) process.stdout.write('READY\n');
    const r = await diasporaConsume(driver, job.role === 'select');
    return finish(w.events, r.bytes, r.ms);
  } finally {
    await driver.close();
  }
}

function finish(events: number, bytes: number, ms: number): PhaseResult {
  const ru = process.resourceUsage();
  const tEnd = performance.timeOrigin + performance.now();
  return {
    events, bytes, seconds: ms / 1000, maxRssMiB: ru.maxRSS / 1024, cpuMs: (ru.userCPUTime + ru.systemCPUTime) / 1000,
    tStart: tEnd - ms, tEnd,
  };
}

main().then(
  (r) => process.stdout.write(`RESULT ${JSON.stringify(r)}\n`),
  (err) => {
    process.stdout.write(`RESULT ${JSON.stringify({ error: String((err as Error)?.stack ?? err) })}\n`);
    process.exitCode = 1;
  },
);
