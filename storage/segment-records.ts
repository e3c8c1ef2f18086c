// Reading a partition's committed events: index entries of its segments turned into records whose metadata and data
// are zero-copy views of the mapped files, checked against their CRCs (a run of events at once where it can: see
// run-checks.ts) and against the files' sizes (see segment-reader.ts on SIGBUS).
import { crc32Range } from './crc.js';
import {
  ENTRY_SIZE, ENTRY_WORDS, HOST_IS_LE, entryDataCrc, entryDataEnd, entryDataLength, entryDataOffset, entryMetaCrc, entryMetaLength,
  entryMetaOffset, entryTimestamp, wordsDataCrc, wordsDataLength, wordsDataOffset, wordsMetaCrc, wordsMetaLength, wordsMetaOffset,
  wordsDataEnd, wordsMetaEnd, wordsTimestamp,
} from './index-entry.js';
import { removedByRetention } from './retention/segment-trim.js';
import { DataCheckRun, metadataRunIntact } from './run-checks.js';
import type { SegmentList } from './segment-list.js';
import type { Segment } from './segment.js';
import { SegmentRun } from './segment-run.js';
import { stillThisTurn } from './size-trust.js';
import { NativeStoredEvent } from './stored-event.js';
import { StorageError } from './types.js';

/** The mapping given to records without metadata (never read). */
const EMPTY_MAP = Buffer.alloc(0);

/** Makes the records of committed events (ids the caller checked: below the committed end, at or above the start). */
export class SegmentRecords {
  constructor(
    private readonly segments: SegmentList,
    /** Check each event's data against its CRC before handing it out (the partition's verifyData option). */
    private readonly verifyData: boolean,
  ) {}

  /** The record of event `id`. */
  at(id: number): NativeStoredEvent {
    const seg = this.segments.segmentFor(id);
    this.measure(seg);
    this.mapDataNow(seg, id - seg.baseId);
    return this.eventIn(seg, id, seg.data.current);
  }

  /** The records of events [from, stop). */
  range(from: number, stop: number): NativeStoredEvent[] {
    const out: NativeStoredEvent[] = new Array(stop - from);
    let id = from;
    while (id < stop) {
      const seg = this.segments.segmentFor(id);
      const segStop = Math.min(stop, seg.endId);
      const runEnd = segStop - seg.baseId;
      const dataMap = this.prepare(seg, id - seg.baseId, runEnd);
      const run = this.verifyData && segStop - id > 1 ? new DataCheckRun(seg, runEnd, dataMap) : null;
      // Metadata checked for the whole run at once; if anything is off, event by event (which names the culprit).
      const metadataChecked = segStop - id > 1 && metadataRunIntact(seg, id - seg.baseId, runEnd);
      for (; id < segStop; id++) out[id - from] = this.eventIn(seg, id, dataMap, run, metadataChecked);
    }
    return out;
  }

  /**
   * Events [from, stop) as a run of one segment (it stops at the segment's end), or their records (range()) where a
   * run does not apply: a big-endian host, a single event, a damaged index entry, or metadata that fails the run's
   * check (the records then name the culprit, event by event).
   */
  run(from: number, stop: number): SegmentRun | NativeStoredEvent[] {
    const seg = this.segments.segmentFor(from);
    const segStop = Math.min(stop, seg.endId);
    if (!HOST_IS_LE || segStop - from < 2) return this.range(from, stop);
    const first = from - seg.baseId;
    const runEnd = segStop - seg.baseId;
    const dataMap = this.prepare(seg, first, runEnd);
    if (seg.bad !== null && [...seg.bad].some((pos) => pos >= first && pos < runEnd)) return this.range(from, stop);
    if (!metadataRunIntact(seg, first, runEnd)) return this.range(from, stop);
    const metaMap = seg.meta.cover(wordsMetaEnd(seg.indexWords, (runEnd - 1 - seg.cacheFrom) * ENTRY_WORDS));
    const words = seg.indexWords.slice((first - seg.cacheFrom) * ENTRY_WORDS, (runEnd - seg.cacheFrom) * ENTRY_WORDS);
    return new SegmentRun(from, segStop - from, seg, words, metaMap, dataMap, this.verifyData);
  }

  /**
   * Readies positions [first, runEnd) of `seg` for a read: their index entries cached, the files measured and the
   * data mapped. Returns the data mapping, which the read's records and checks keep (see Segment.releaseForReader).
   */
  private prepare(seg: Segment, first: number, runEnd: number): Buffer {
    seg.ensureCached(first, runEnd - 1);
    this.measure(seg);
    this.mapDataNow(seg, runEnd - 1);
    return seg.data.current;
  }

  /**
   * retention: maps the data the records of a read refer to now, so that a record whose data() is called after
   * retention unlinked its segment still finds its bytes (unlinked files stay readable through a mapping). If the
   * file is already gone because another process's trim removed it (its index and metadata were read just before
   * they went), the read fails (readRange/read turn it into OUT_OF_RANGE: the consumer's onTrimmed decides) rather
   * than handing out records whose data() is CORRUPTION. Any other failure is left for data() to report.
   */
  private mapDataNow(seg: Segment, lastPos: number): void {
    try {
      const entry = lastPos - seg.cacheFrom;
      seg.data.cover(HOST_IS_LE ? wordsDataEnd(seg.indexWords, entry * ENTRY_WORDS) : entryDataEnd(seg.index, entry * ENTRY_SIZE));
    } catch (err) {
      if (removedByRetention(seg.paths.data)) throw err;
    }
  }

  /**
   * One fstat per file per call (not per event), none when the refresh of this call measured it already: bytes
   * are only touched below sizes measured in this turn of the event loop, so a file that another process
   * truncated is CORRUPTION (naming file and offset) instead of SIGBUS.
   */
  private measure(seg: Segment): void {
    if (!stillThisTurn(seg.meta.measuredIn)) seg.meta.measure();
    if (!stillThisTurn(seg.data.measuredIn)) seg.data.measure();
  }

  private eventIn(seg: Segment, id: number, dataMap: Buffer, run: DataCheckRun | null = null, metadataChecked = false): NativeStoredEvent {
    const pos = id - seg.baseId;
    const at = pos * ENTRY_SIZE;
    if (seg.bad !== null && seg.bad.has(pos)) {
      const what = seg.missingFrom !== null && pos >= seg.missingFrom
        ? `is missing or damaged although the recovery point records it as committed`
        : 'fails its checksum';
      throw new StorageError('CORRUPTION', `index entry of event ${id} ${what} (${seg.paths.index} at offset ${at})`, {
        file: seg.paths.index, offset: at, id,
      });
    }
    // Fields from the cache's word view (the entry buffer is 4-byte aligned): the per-event decode is 6 fields.
    const buf = seg.index;
    const w = seg.indexWords;
    const cachedAt = (pos - seg.cacheFrom) * ENTRY_SIZE;
    const word = cachedAt >>> 2;
    const metaOffset = HOST_IS_LE ? wordsMetaOffset(w, word) : entryMetaOffset(buf, cachedAt);
    const metaLength = HOST_IS_LE ? wordsMetaLength(w, word) : entryMetaLength(buf, cachedAt);
    // The mapping covering the metadata now (no view per event: the record makes one only if asked for bytes).
    let map = metaLength > 0 ? seg.meta.cover(metaOffset + metaLength) : EMPTY_MAP;
    if (!metadataChecked) {
      const crc = HOST_IS_LE ? wordsMetaCrc(w, word) : entryMetaCrc(buf, cachedAt);
      if ((metaLength > 0 ? crc32Range(map, metaOffset, metaOffset + metaLength) : 0) !== crc) map = this.metadataAfresh(seg, id, metaOffset, metaLength, crc);
    }
    return new NativeStoredEvent(
      id,
      HOST_IS_LE ? wordsTimestamp(w, word) : entryTimestamp(buf, cachedAt),
      map,
      metaOffset,
      metaLength,
      HOST_IS_LE ? wordsDataLength(w, word) : entryDataLength(buf, cachedAt),
      seg,
      dataMap,
      HOST_IS_LE ? wordsDataOffset(w, word) : entryDataOffset(buf, cachedAt),
      HOST_IS_LE ? wordsDataCrc(w, word) : entryDataCrc(buf, cachedAt),
      this.verifyData, run,
    );
  }

  /**
   * The mapping of metadata that failed its checksum as mapped, when only this process's copy was changed (a consumer
   * wrote into `metadataBytes`): a fresh mapping holding the file's intact bytes. Otherwise CORRUPTION.
   */
  private metadataAfresh(seg: Segment, id: number, metaOffset: number, metaLength: number, crc: number): Buffer {
    if (metaLength > 0 && seg.meta.changedInMemoryOnly(metaOffset, metaLength, crc)) {
      const map = seg.meta.cover(metaOffset + metaLength);
      if (crc32Range(map, metaOffset, metaOffset + metaLength) === crc) return map;
    }
    throw new StorageError('CORRUPTION', `metadata of event ${id} fails its checksum (${seg.paths.meta} at offset ${metaOffset})`, {
      file: seg.paths.meta, offset: metaOffset, id,
    });
  }
}
