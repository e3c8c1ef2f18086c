// Benchmark workloads shared by producer.ts, consumer.ts and run-all.ts, plus the raw baselines measured in the
// same run (plain fs.writeSync / fs.readSync of the same bytes, and memcpy).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  BatchSize,
  DataDescriptor,
  type DataAllocator,
  type DataSelector,
  type Event,
  type TopicHandle,
  makeThreadPool,
} from '../../lib/index.js';
import { Progress } from '../lib/progress.js';

export interface Measure {
  seconds: number;
  events: number;
  /** Payload bytes (metadata + data) moved. */
  bytes: number;
}

export const eventsPerSec = (m: Measure): number => m.events / m.seconds;
export const mbPerSec = (m: Measure): number => m.bytes / 2 ** 20 / m.seconds;

/** Metadata objects whose compact JSON is exactly `size` bytes (minimum 8: {"d":""}). */
export function makeMetadata(n: number, size: number): Array<{ d: string }> {
  const pad = Math.max(0, size - 8);
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  // Flat strings (a substring of one long string), so the benchmark measures the engine, not string flattening.
  const long = alphabet.repeat(Math.ceil((pad + alphabet.length) / alphabet.length) + 1);
  const out = [];
  for (let i = 0; i < n; i++) {
    const start = (i * 31) % alphabet.length;
    out.push({ d: long.substring(start, start + pad) });
  }
  return out;
}

export interface ProduceOptions {
  events: number;
  metadataSize: number;
  dataSize: number;
  batchSize: BatchSize;
  flushInterval: number;
  threads?: number;
  progress?: boolean;
  /** Every event into this partition (default: the topic's partition selector). */
  partition?: number;
}

/** Pushes `events` events (each data a slice of one random buffer), flushing every `flushInterval` events. */
export async function produce(topic: TopicHandle, o: ProduceOptions): Promise<Measure> {
  const metadata = makeMetadata(o.events, o.metadataSize);
  const blob = Buffer.allocUnsafe(o.dataSize * Math.min(o.events, 4096));
  for (let i = 0; i < blob.length; i += 4096) blob.writeUInt32LE((i * 2654435761) >>> 0, Math.min(i, blob.length - 4));
  const slices = o.dataSize === 0 ? [] : Array.from({ length: Math.min(o.events, 4096) }, (_, i) => blob.subarray(i * o.dataSize, (i + 1) * o.dataSize));
  const producer = topic.producer({
    name: 'benchmark-producer',
    batchSize: o.batchSize,
    threadPool: o.threads ? makeThreadPool(o.threads) : undefined,
  });
  const bar = new Progress('produce', o.events, o.progress);
  const t0 = performance.now();
  let last;
  for (let i = 0; i < o.events; i++) {
    last = producer.push(metadata[i], o.dataSize === 0 ? undefined : slices[i % slices.length], o.partition);
    if ((i + 1) % o.flushInterval === 0) {
      await producer.flush();
      bar.tick(o.flushInterval);
    }
  }
  await producer.flush();
  await last;
  const seconds = (performance.now() - t0) / 1000;
  bar.stop();
  await producer.close();
  return { seconds, events: o.events, bytes: o.events * (o.metadataSize + o.dataSize) };
}

export type ConsumeMode = 'process' | 'iterator' | 'pull';

export interface ConsumeOptions {
  events: number;
  mode: ConsumeMode;
  /** Fraction of events whose data is fetched (deterministic choice), 0..1. */
  dataInterest: number;
  /** Fraction of each fetched event's data (a prefix), 0..1. */
  dataSelectivity: number;
  acknowledge?: boolean;
  /** Gather into allocated memory instead of zero-copy slices. */
  allocator?: boolean;
  name?: string;
  threads?: number;
  progress?: boolean;
}

/** Deterministic "random" choice of an event for the data-interest fraction. */
const chosen = (id: number, partition: number, fraction: number): boolean =>
  fraction >= 1 || (((id * 2654435761 + partition * 40503) >>> 0) / 2 ** 32) < fraction;

export function benchSelector(interest: number, selectivity: number): DataSelector | undefined {
  if (interest >= 1 && selectivity >= 1) return undefined; // all data (the default)
  let counter = 0;
  return (_md, d: DataDescriptor) => {
    if (!chosen(counter++, 0, interest)) return null;
    return selectivity >= 1 ? d : d.makeSubView(0, Math.floor(d.size * selectivity));
  };
}

/**
 * The benchmark's allocator hands out buffers from a small ring that is reused (events are dropped right after being
 * counted), as a high-throughput application would with a buffer pool: it measures the gather itself, not the
 * kernel's first-touch page faults of freshly allocated memory.
 */
export function pooledAllocator(ring = 4): DataAllocator {
  const buffers: Buffer[] = [];
  let next = 0;
  return (_md, d) => {
    const i = next++ % ring;
    if (!buffers[i] || buffers[i].length < d.size) buffers[i] = Buffer.alloc(d.size);
    return buffers[i].subarray(0, d.size);
  };
}

/** Consumes `events` events from the start of the topic and counts the data bytes delivered. */
export async function consume(topic: TopicHandle, o: ConsumeOptions): Promise<Measure & { dataBytes: number }> {
  const consumer = await topic.consumer(o.name ?? `benchmark-consumer-${process.pid}-${Date.now()}`, {
    from: 'earliest',
    dataSelector: o.dataInterest <= 0 ? () => null : benchSelector(o.dataInterest, o.dataSelectivity),
    dataAllocator: o.allocator ? pooledAllocator() : undefined,
    durable: o.acknowledge === true,
  });
  const bar = new Progress('consume', o.events, o.progress);
  let n = 0;
  let dataBytes = 0;
  const onEvent = (e: Event): void => {
    n++;
    dataBytes += e.data.size;
    if (o.acknowledge) void e.acknowledge();
    if ((n & 8191) === 0) bar.tick(8192);
  };
  const t0 = performance.now();
  if (o.mode === 'process') {
    // onEvent is a closure: it runs on this thread; -p n keeps up to n processors in flight (worker threads need a
    // processor module: see scripts/bench/thread-pool.ts).
    await consumer.process(onEvent, { maxEvents: o.events, concurrency: o.threads || undefined });
  } else if (o.mode === 'iterator') {
    for await (const e of consumer) {
      onEvent(e);
      if (n >= o.events) break;
    }
  } else {
    while (n < o.events) {
      const e = await consumer.pull();
      if (!e) break;
      onEvent(e);
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  bar.stop();
  await consumer.close();
  return { seconds, events: n, bytes: dataBytes, dataBytes };
}

/** Raw baseline: the same bytes written with fs.writeSync in batches of 128 events, then read back with fs.readSync. */
export function rawBaseline(events: number, metadataSize: number, dataSize: number): { write: Measure; read: Measure } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'diaspora-raw-'));
  const file = path.join(dir, 'raw');
  const per = metadataSize + dataSize;
  const batch = Buffer.alloc(per * 128, 7);
  const fd = fs.openSync(file, 'w+');
  try {
    let t0 = performance.now();
    for (let i = 0; i < events; i += 128) {
      const k = Math.min(128, events - i);
      fs.writeSync(fd, batch, 0, k * per);
    }
    const write = { seconds: (performance.now() - t0) / 1000, events, bytes: events * per };
    const readBuf = Buffer.alloc(per * 128);
    t0 = performance.now();
    let pos = 0;
    for (let i = 0; i < events; i += 128) {
      const k = Math.min(128, events - i);
      pos += fs.readSync(fd, readBuf, 0, k * per, pos);
    }
    const read = { seconds: (performance.now() - t0) / 1000, events, bytes: pos };
    return { write, read };
  } finally {
    fs.closeSync(fd);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** memcpy bandwidth (GB/s) of this machine now: Buffer.copy of 64 MiB blocks. */
export function memcpyGBps(): number {
  const a = Buffer.alloc(64 << 20, 1);
  const b = Buffer.alloc(64 << 20);
  a.copy(b); // warm
  const t0 = performance.now();
  const rounds = 8;
  for (let i = 0; i < rounds; i++) a.copy(b);
  return (rounds * a.length) / 1e9 / ((performance.now() - t0) / 1000);
}

export function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}
