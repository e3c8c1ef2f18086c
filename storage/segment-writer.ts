// The native writer's side of the last segment: its open descriptors and the write of a run of events into it.
// Commit protocol of a run: metadata bytes, data bytes, then the index entries in one write. An event exists once
// its whole index entry is on disk with a matching CRC; readers only ever look at bytes that such an entry covers,
// so they never see a half-written event.
import fs from 'node:fs';
import { crc32, crc32Pieces } from './crc.js';
import { crc32Ranges } from './crc-ranges.js';
import { ENTRY_SIZE, ENTRY_WORDS, HOST_IS_LE, allocEntryBuffer, encodeEntry, encodeEntryWords } from './index-entry.js';
import { STAGE_LIMIT, metadataBackToBack, metadataPieces, staging, writeAll, writePieces } from './write-pieces.js';
import { NO_BYTES } from './stored-event.js';
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
  private dataCrcs = new Uint32Array(256);

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
    let metaTotal = 0;
    let dataTotal = 0;
    for (let i = from; i < to; i++) {
      metaTotal += metaLens[i]!;
      dataTotal += dataLens[i]!;
    }
    if (this.entries.buf.length < k * ENTRY_SIZE) this.entries = allocEntryBuffer(k * ENTRY_SIZE);
    if (this.metaCrcs.length < k) {
      this.metaCrcs = new Uint32Array(Math.max(k, 2 * this.metaCrcs.length));
      this.dataCrcs = new Uint32Array(this.metaCrcs.length);
    }
    const metaBytes = this.metadataCrcs(events, metaLens, from, to, metaTotal);
    const dataStage = dataTotal <= STAGE_LIMIT ? staging(1, dataTotal) : null;
    const dataPieces: Uint8Array[] | null = dataStage === null ? [] : null;
    if (dataTotal > 0) this.dataCrcsOf(events, from, to, dataStage, dataPieces);
    else this.dataCrcs.fill(0, 0, k);
    const metaStart = seg.metaEnd();
    const dataStart = seg.dataEnd();
    const lastTimestamp = this.encodeEntries(events, metaLens, dataLens, from, to, metaStart, dataStart);
    // The bytes, then the entries: metadata already back to back goes out as it lies, small runs from their staging
    // buffer (one write each), big ones with writev, uncopied.
    if (metaBytes !== null) writeAll(target.metaFd, metaBytes, metaStart, metaTotal);
    else writePieces(target.metaFd, metadataPieces(events, from, to), metaTotal, metaStart);
    if (dataStage !== null) writeAll(target.dataFd, dataStage, dataStart, dataTotal);
    else writePieces(target.dataFd, dataPieces!, dataTotal, dataStart);
    const immediate = this.flushBehavior === 'immediate';
    if (immediate) {
      // Bytes first, then the commit record: an fsynced entry never points at bytes that were lost.
      fs.fdatasyncSync(target.dataFd);
      fs.fdatasyncSync(target.metaFd);
    }
    writeAll(target.indexFd, this.entries.buf, seg.count * ENTRY_SIZE, k * ENTRY_SIZE);
    if (immediate) fs.fdatasyncSync(target.indexFd);
    else target.dirty = true;
    seg.committed(this.entries.words, k);
    this.lastTimestamp = lastTimestamp; // only once the run is written: a failed run leaves it where it was
  }

  /**
   * The CRCs of events [from, to)'s metadata into metaCrcs, computed together where the run lies in one buffer (as
   * the producer's arena puts it, or gathered into a staging buffer). Returns that buffer (the run's bytes, to be
   * written at once), or null for a run too big to stage (then written piece by piece).
   */
  private metadataCrcs(events: readonly AppendEvent[], metaLens: Float64Array, from: number, to: number, total: number): Uint8Array | null {
    const crcs = this.metaCrcs;
    if (total === 0) {
      crcs.fill(0, 0, to - from);
      return NO_BYTES;
    }
    let bytes = metadataBackToBack(events, from, to, total);
    if (bytes === null && total <= STAGE_LIMIT) {
      const stage = staging(0, total);
      for (let i = from, at = 0; i < to; i++) {
        const meta = events[i]!.metadata;
        stage.set(meta, at);
        at += meta.length;
      }
      bytes = stage;
    }
    if (bytes !== null) crc32Ranges(bytes, 0, metaLens, from, to, crcs);
    else for (let i = from; i < to; i++) crcs[i - from] = crc32(events[i]!.metadata);
    return bytes;
  }

  /** The CRCs of events [from, to)'s data into dataCrcs, their bytes gathered into `stage` or listed in `pieces`. */
  private dataCrcsOf(events: readonly AppendEvent[], from: number, to: number, stage: Buffer | null, pieces: Uint8Array[] | null): void {
    const crcs = this.dataCrcs;
    let at = 0;
    for (let i = from; i < to; i++) {
      const data = events[i]!.data;
      let crc = 0;
      if (data instanceof Uint8Array) {
        if (stage !== null) stage.set(data, at);
        else if (data.length > 0) pieces!.push(data);
        at += data.length;
        crc = crc32(data);
      } else if (data !== undefined) {
        for (const piece of data) {
          if (stage !== null) stage.set(piece, at);
          else if (piece.length > 0) pieces!.push(piece);
          at += piece.length;
        }
        crc = crc32Pieces(data);
      }
      crcs[i - from] = crc;
    }
  }

  /**
   * The index entries of events [from, to) into `entries`, their bytes starting at metaStart and dataStart. Returns
   * the newest timestamp they carry (never below lastTimestamp).
   */
  private encodeEntries(
    events: readonly AppendEvent[], metaLens: Float64Array, dataLens: Float64Array, from: number, to: number, metaStart: number, dataStart: number,
  ): number {
    const { buf, words } = this.entries;
    const metaCrcs = this.metaCrcs;
    const dataCrcs = this.dataCrcs;
    const now = Date.now();
    let ts = this.lastTimestamp;
    let metaPos = metaStart;
    let dataPos = dataStart;
    for (let i = from; i < to; i++) {
      const evTs = events[i]!.timestamp;
      const t = evTs === undefined ? now : Math.floor(evTs);
      if (t > ts) ts = t;
      const j = i - from;
      const metaLen = metaLens[i]!;
      const dataLen = dataLens[i]!;
      if (HOST_IS_LE) encodeEntryWords(words, j * ENTRY_WORDS, metaPos, dataPos, metaLen, dataLen, ts, metaCrcs[j]!, dataCrcs[j]!);
      else encodeEntry(buf, j * ENTRY_SIZE, metaPos, dataPos, metaLen, dataLen, ts, metaCrcs[j]!, dataCrcs[j]!);
      metaPos += metaLen;
      dataPos += dataLen;
    }
    return ts;
  }
}
