// A run of consecutive committed events of one segment, answered by position without a record object per event: a
// consumer's batch reads each event's metadata text and data straight from here. The run's index entries are copied
// (the segment's read cache moves on), its metadata was checked at once when it was made, and its data is checked a
// window at a time as it is asked for (run-checks.ts). Anything off the fast path (a file truncated since, data
// that fails its window, a mapping to renew) is answered by the event's own record (stored-event.ts), which reports
// or repairs it exactly as a single read does.
import {
  ENTRY_WORDS, wordsDataCrc, wordsDataLength, wordsDataOffset, wordsMetaLength, wordsMetaOffset, wordsTimestamp,
} from './index-entry.js';
import { DataCheckRun } from './run-checks.js';
import type { Segment } from './segment.js';
import { stillThisTurn } from './size-trust.js';
import { NO_BYTES, NativeStoredEvent } from './stored-event.js';
import type { StoredRun } from './types.js';
import { decodeUtf8Range } from './utf8-range.js';

/** 32-bit words per index entry (fields are read from the word view: little-endian hosts only). */
const W = ENTRY_WORDS;

export class SegmentRun implements StoredRun {
  /** The data checks of the run, a window at a time; null when verification is off. */
  private readonly checks: DataCheckRun | null;

  constructor(
    readonly firstId: number,
    readonly length: number,
    private readonly segment: Segment,
    /** Index entries of the run's events, copied from the segment's read cache. */
    private readonly words: Uint32Array,
    /** The .meta and .data mappings at read time, covering every event of the run (see NativeStoredEvent). */
    private readonly metaMap: Buffer,
    private readonly dataMap: Buffer,
    private readonly verifyData: boolean,
  ) {
    const runEnd = firstId - segment.baseId + length;
    this.checks = verifyData ? new DataCheckRun(segment, runEnd, dataMap) : null;
  }

  id(k: number): number {
    return this.firstId + k;
  }

  timestamp(k: number): number {
    return wordsTimestamp(this.words, k * W);
  }

  dataSize(k: number): number {
    return wordsDataLength(this.words, k * W);
  }

  metadataUtf8(k: number): string {
    const length = wordsMetaLength(this.words, k * W);
    if (length === 0) return '';
    const start = wordsMetaOffset(this.words, k * W);
    if (!this.trusted(this.segment.meta, start + length)) return this.record(k).metadataUtf8();
    return decodeUtf8Range(this.metaMap, start, start + length);
  }

  metadataBytes(k: number): Uint8Array {
    const length = wordsMetaLength(this.words, k * W);
    if (length === 0) return NO_BYTES;
    const start = wordsMetaOffset(this.words, k * W);
    if (!this.trusted(this.segment.meta, start + length)) return this.record(k).metadata;
    const map = this.metaMap;
    return new Uint8Array(map.buffer, map.byteOffset + start, length);
  }

  data(k: number): Uint8Array {
    const size = wordsDataLength(this.words, k * W);
    if (size === 0) return NO_BYTES;
    const start = wordsDataOffset(this.words, k * W);
    const end = start + size;
    const map = this.dataMap;
    if (end > map.length || !this.trusted(this.segment.data, end)) return this.record(k).data();
    if (this.checks !== null && !this.checks.covers(this.firstId + k - this.segment.baseId)) return this.record(k).data();
    return new Uint8Array(map.buffer, map.byteOffset + start, size);
  }

  record(k: number): NativeStoredEvent {
    const w = this.words;
    const word = k * W;
    return new NativeStoredEvent(
      this.firstId + k,
      wordsTimestamp(w, word),
      this.metaMap,
      wordsMetaOffset(w, word),
      wordsMetaLength(w, word),
      wordsDataLength(w, word),
      this.segment,
      this.dataMap,
      wordsDataOffset(w, word),
      wordsDataCrc(w, word),
      this.verifyData,
      this.checks,
    );
  }

  /**
   * Bytes below `end` of the file may be touched: within the size measured in this turn of the event loop (a file
   * truncated since is re-measured by the record's path, which reports CORRUPTION instead of a SIGBUS).
   */
  private trusted(file: Segment['meta'], end: number): boolean {
    return end <= file.knownSize && stillThisTurn(file.measuredIn);
  }
}
