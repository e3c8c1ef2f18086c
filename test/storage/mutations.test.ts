// Every kind of on-disk damage applied to every file of a small multi-segment partition, in every flush mode.
// For each case: every event reads back with its exact bytes or a typed CORRUPTION naming file and offset; the log
// never ends earlier without an error; a read-only open changes no file; damage that fails reads shows in
// verify(); a consumer that acknowledged K resumes at K+1 (never later); and a following push either fails with
// CORRUPTION or appends right after the old end (never reusing a committed id). In-process, a few hundred cases.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { PartitionLog } from '../../storage/partition-log.js';
import { StorageError, type AppendEvent, type FlushBehavior } from '../../storage/types.js';
import { listSegmentBases } from '../../storage/segment-files.js';
import { payload, metaOf } from './helpers.js';
import { tempDir } from '../temp-dir.js';

const N = 40;
/** A named consumer acknowledged this id before the damage. */
const ACKED = 10;
const SEGMENT_BYTES = 12_000;
const eventAt = (i: number): AppendEvent => ({ metadata: metaOf(1, i), data: payload(1, i, 300 + ((i * 137) % 900)), timestamp: 1_700_000_000_000 + i });
const EXTRA: AppendEvent = { metadata: metaOf(2, 0), data: payload(2, 0, 77) };

function buildTemplate(dir: string, flushBehavior: FlushBehavior): void {
  const log = PartitionLog.open(dir, 0, { flushBehavior, segmentBytes: SEGMENT_BYTES });
  for (let i = 0; i < N; ) {
    const size = Math.min(N - i, 1 + (i % 5));
    log.append(Array.from({ length: size }, (_, k) => eventAt(i + k)));
    i += size;
  }
  log.flush();
  log.close();
}

interface Mutation {
  name: string;
  apply(file: string): void;
}

function mutationsFor(size: number): Mutation[] {
  const out: Mutation[] = [];
  const truncations = [...new Set([0, 1, 47, 48, Math.floor(size / 2), size - 48, size - 1])].filter((o) => o >= 0 && o < size);
  for (const at of truncations) out.push({ name: `truncate to ${at}`, apply: (f) => fs.truncateSync(f, at) });
  for (const at of [...new Set([0, Math.floor(size / 2), size - 1])]) {
    out.push({
      name: `flip a bit at ${at}`,
      apply: (f) => {
        const b = fs.readFileSync(f);
        b[at]! ^= 0x10;
        fs.writeFileSync(f, b);
      },
    });
  }
  for (const page of size > 8192 ? [0, 1] : [0]) {
    out.push({
      name: `zero page ${page}`,
      apply: (f) => {
        const b = fs.readFileSync(f);
        b.fill(0, page * 4096, Math.min(b.length, (page + 1) * 4096));
        fs.writeFileSync(f, b);
      },
    });
  }
  out.push({ name: 'append garbage', apply: (f) => fs.appendFileSync(f, Buffer.alloc(100, 0xab)) });
  out.push({ name: 'delete', apply: (f) => fs.rmSync(f) });
  return out;
}

function snapshot(dir: string): string {
  return fs.readdirSync(dir).sort().map((name) => {
    const st = fs.statSync(path.join(dir, name));
    return `${name}:${st.size}:${st.mtimeMs}`;
  }).join('|');
}

function isTyped(err: unknown): boolean {
  return err instanceof StorageError && err.code === 'CORRUPTION' && typeof err.details.file === 'string' && typeof err.details.offset === 'number';
}

/** Reads every old event; returns how many failed with a typed error, and pushes problems. */
function readAll(log: PartitionLog, label: string, failures: string[]): number {
  let errors = 0;
  for (let id = 0; id < N; id++) {
    try {
      const ev = log.read(id);
      const want = eventAt(id);
      if (!Buffer.from(ev.metadata).equals(want.metadata) || !Buffer.from(ev.data()).equals(want.data as Uint8Array)) {
        failures.push(`${label}: event ${id} came back with wrong bytes`);
      }
    } catch (err) {
      if (isTyped(err)) errors++;
      else failures.push(`${label}: event ${id} threw an untyped error: ${String(err)}`);
    }
  }
  return errors;
}

function checkCase(dir: string, flushBehavior: FlushBehavior, label: string, failures: string[]): void {
  const before = snapshot(dir);
  let log: PartitionLog;
  try {
    log = PartitionLog.open(dir, 0, { flushBehavior, segmentBytes: SEGMENT_BYTES });
  } catch (err) {
    failures.push(`${label}: open threw ${String(err)}`);
    return;
  }
  try {
    if (log.endId !== N) failures.push(`${label}: the log ends at ${log.endId} instead of ${N}`);
    if (log.startId > ACKED + 1) failures.push(`${label}: the log starts at ${log.startId}: a consumer that acknowledged ${ACKED} would skip events`);
    const errors = readAll(log, label, failures);
    // The consumer's way: a batch from its resume point; each event whole, or a typed error.
    try {
      const batch = log.readRange(ACKED + 1, N);
      if (batch.length !== N - ACKED - 1 || batch[0]!.id !== ACKED + 1) failures.push(`${label}: the resumed batch has ${batch.length} events from ${batch[0]?.id}`);
      for (const ev of batch) {
        try {
          if (!Buffer.from(ev.data()).equals(eventAt(ev.id).data as Uint8Array)) failures.push(`${label}: resumed event ${ev.id} has wrong data`);
        } catch (err) {
          if (!isTyped(err)) failures.push(`${label}: resumed event ${ev.id} threw ${String(err)}`);
        }
      }
    } catch (err) {
      if (!isTyped(err)) failures.push(`${label}: the resumed batch threw ${String(err)}`);
    }
    if (snapshot(dir) !== before) failures.push(`${label}: a read-only open changed the files`);
    if (errors > 0 && log.verify().length === 0) failures.push(`${label}: ${errors} events fail to read but verify() reports nothing`);
  } finally {
    log.close();
  }

  const writer = PartitionLog.open(dir, 0, { flushBehavior, segmentBytes: SEGMENT_BYTES });
  try {
    const r = writer.append([EXTRA]);
    if (r.firstId !== N) failures.push(`${label}: the push got id ${r.firstId} instead of ${N}`);
    else if (!Buffer.from(writer.read(N).metadata).equals(EXTRA.metadata)) failures.push(`${label}: the pushed event reads back wrong`);
    if (writer.endId !== N + 1) failures.push(`${label}: after the push the log ends at ${writer.endId}`);
  } catch (err) {
    if (!isTyped(err)) failures.push(`${label}: the push failed with something other than CORRUPTION: ${String(err)}`);
  }
  // Whatever the writer did (repair or refusal), committed events are still there or still reported.
  readAll(writer, `${label} (after the push)`, failures);
  writer.close();
}

for (const flushBehavior of ['buffered', 'on_flush', 'immediate'] as const) {
  test(`every mutation of every file of a 3-segment partition (${flushBehavior}): no silent loss, no reused id`, (t) => {
    const root = tempDir(t);
    const template = path.join(root, 'template');
    buildTemplate(template, flushBehavior);
    t.true(listSegmentBases(template).length >= 3, 'several segments');
    const files = fs.readdirSync(template).filter((f) => /\.(index|meta|data)$|^recovery\.point$/.test(f)).sort();
    t.true(files.includes('recovery.point'));
    const failures: string[] = [];
    let cases = 0;
    for (const file of files) {
      const size = fs.statSync(path.join(template, file)).size;
      for (const m of mutationsFor(size)) {
        const dir = path.join(root, `case-${cases++}`);
        fs.cpSync(template, dir, { recursive: true });
        m.apply(path.join(dir, file));
        checkCase(dir, flushBehavior, `${file} ${m.name}`, failures);
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
    t.true(cases > 100, `${cases} cases`);
    t.deepEqual(failures, []);
  });
}
