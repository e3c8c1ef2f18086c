// The native writer's side of the last segment: its open descriptors and the write of a run of events into it.
// Commit protocol of a run: metadata bytes, data bytes, then the index entries in one write. An event exists once
// its whole index entry is on disk with a matching CRC; readers only ever look at bytes that such an entry covers,
// so they never see a half-written event.
import fs from 'node:fs';
import { crc32, crc32Pieces } from './crc.js';
import { crc32Ranges } from './crc-ranges.js';
import { ENTRY_SIZE, HOST_IS_LE, allocEntryBuffer, encodeEntry, encodeEntryWords } from './index-entry.js';
import { STAGE_LIMIT, metadataBackToBack, staging, writeAll, writePieces } from './write-pieces.js';
import type { Segment } from './segment.js';
import type { AppendEvent, FlushBehavior } from './types.js';

interface WriteTarget {
  segment: Segment;
  metaFd: number;
  dataFd: number;
  indexFd: number;
  dirty: boolean;
}

export class SegmentWriter {
  private target: WriteTarget | null = null;
  /** Timestamps never decrease within a partition: findByTime relies on it. */
  lastTimestamp = 0;
  // Scratch space reused by every run (no per-batch allocation of index entries).
  private entries = allocEntryBuffer(256 * ENTRY_SIZE);
  private metaCrcs = new Uint32Array(256);

  constructor(private readonly flushBehavior: FlushBehavior) {}

  /** The segment written to, or null when none is open. */
  get segment(): Segment | null {
    return this.target?.segment ?? null;
  }

  /**
   * Opens `seg` for writing (positional writes: never O_APPEND, which Linux lets ignore the position). True when
   * descriptors were opened (by path), false when `seg` was open already.
   */
  open(seg: Segment): boolean {
    if (this.target?.segment === seg) return false;
    this.close();
    const fds: number[] = [];
    try {
      for (const file of [seg.paths.meta, seg.paths.data, seg.paths.index]) fds.push(fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT));
    } catch (err) {
      // Out of descriptors (EMFILE) part way: the files opened must not stay open.
      for (const fd of fds) fs.closeSync(fd);
      throw err;
    }
    const [metaFd, dataFd, indexFd] = fds as [number, number, number];
    this.target = { segment: seg, metaFd, dataFd, indexFd, dirty: false };
    return true;
  }

  /** fsyncs what was written since the last sync; true if there was anything. */
  sync(): boolean {
    const t = this.target;
    if (t === null || !t.dirty) return false;
    fs.fdatasyncSync(t.dataFd);
    fs.fdatasyncSync(t.metaFd);
    fs.fdatasyncSync(t.indexFd);
    t.dirty = false;
    return true;
  }

  close(): void {
    const t = this.target;
    if (t === null) return;
    try {
      if (this.flushBehavior !== 'buffered') this.sync();
    } finally {
      this.target = null;
      fs.closeSync(t.metaFd);
      fs.closeSync(t.dataFd);
      fs.closeSync(t.indexFd);
    }
  }

  /** Writes events [from, to) into the open segment: metadata, data, then the index entries (the commit). */
  writeRun(events: readonly AppendEvent[], metaLens: Float64Array, dataLens: Float64Array, from: number, to: number): void {
    const target = this.target!;
    const seg = target.segment;
    const k = to - from;
    const metaStart = seg.metaEnd();
    const dataStart = seg.dataEnd();
    let metaTotal = 0;
    let dataTotal = 0;
    for (let i = from; i < to; i++) {
      metaTotal += metaLens[i]!;
      dataTotal += dataLens[i]!;
    }
    if (this.entries.buf.length < k * ENTRY_SIZE) this.entries = allocEntryBuffer(k * ENTRY_SIZE);
    const { buf: entries, words } = this.entries;
    // Metadata already back to back goes out as it lies; other small runs are gathered into staging buffers (one
    // write each); big ones go out with writev, uncopied.
    const metaRun = metaTotal > 0 ? metadataBackToBack(events, from, to, metaTotal) : null;
    const metaStage = metaRun === null && metaTotal <= STAGE_LIMIT ? staging(0, metaTotal) : null;
    const dataStage = dataTotal <= STAGE_LIMIT ? staging(1, dataTotal) : null;
    const metaPieces: Uint8Array[] | null = metaRun === null && metaStage === null ? [] : null;
    const dataPieces: Uint8Array[] | null = dataStage === null ? [] : null;
    // The metadata CRCs of a run lying in one buffer (as it is written, or staged), computed together (crc-ranges.ts).
    if (metaStage !== null) {
      for (let i = from, at = 0; i < to; i++) {
        const meta = events[i]!.metadata;
        metaStage.set(meta, at);
        at += meta.length;
      }
    }
    const metaBytes = metaRun ?? metaStage;
    if (this.metaCrcs.length < k) this.metaCrcs = new Uint32Array(Math.max(k, 2 * this.metaCrcs.length));
    const metaCrcs = this.metaCrcs;
    if (metaBytes !== null) crc32Ranges(metaBytes, 0, metaLens, from, to, metaCrcs);
    const now = Date.now();
    let metaPos = 0;
    let dataPos = 0;
    let ts = this.lastTimestamp;
    for (let i = from; i < to; i++) {
      const ev = events[i]!;
      const meta = ev.metadata;
      if (metaPieces !== null && meta.length > 0) metaPieces.push(meta);
      const metaCrc = metaBytes !== null ? metaCrcs[i - from]! : crc32(meta);
      const data = ev.data;
      let dataCrc = 0;
      if (data instanceof Uint8Array) {
        if (dataStage !== null) dataStage.set(data, dataPos);
        else if (data.length > 0) dataPieces!.push(data);
        dataCrc = crc32(data);
      } else if (data !== undefined) {
        let at = dataPos;
        for (const piece of data) {
          if (dataStage !== null) dataStage.set(piece, at);
          else if (piece.length > 0) dataPieces!.push(piece);
          at += piece.length;
        }
        dataCrc = crc32Pieces(data);
      }
      const evTs = ev.timestamp === undefined ? now : Math.floor(ev.timestamp);
      if (evTs > ts) ts = evTs;
      const at = (i - from) * ENTRY_SIZE;
      const metaLen = metaLens[i]!;
      const dataLen = dataLens[i]!;
      if (HOST_IS_LE) encodeEntryWords(words, at >>> 2, metaStart + metaPos, dataStart + dataPos, metaLen, dataLen, ts, metaCrc, dataCrc);
      else encodeEntry(entries, at, metaStart + metaPos, dataStart + dataPos, metaLen, dataLen, ts, metaCrc, dataCrc);
      metaPos += metaLen;
      dataPos += dataLen;
    }
    if (metaRun !== null) writeAll(target.metaFd, metaRun, metaStart);
    else if (metaStage !== null) writeAll(target.metaFd, metaStage, metaStart, metaTotal);
    else writePieces(target.metaFd, metaPieces!, metaTotal, metaStart);
    if (dataStage !== null) writeAll(target.dataFd, dataStage, dataStart, dataTotal);
    else writePieces(target.dataFd, dataPieces!, dataTotal, dataStart);
    const immediate = this.flushBehavior === 'immediate';
    if (immediate) {
      // Bytes first, then the commit record: an fsynced entry never points at bytes that were lost.
      fs.fdatasyncSync(target.dataFd);
      fs.fdatasyncSync(target.metaFd);
    }
    writeAll(target.indexFd, entries, seg.count * ENTRY_SIZE, k * ENTRY_SIZE);
    if (immediate) fs.fdatasyncSync(target.indexFd);
    else target.dirty = true;
    seg.committed(words, k);
    this.lastTimestamp = ts;
  }
}
