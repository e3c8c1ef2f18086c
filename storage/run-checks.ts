// Checksums of runs of consecutive events, checked with one CRC-32 streamed over their contiguous bytes and
// compared with their stored per-event CRCs combined (crc32Combine). One call per event costs a native call plus
// memory the prefetcher has not seen (~0.26 µs per KiB of data in a consumer, ~75 ns per 128 B of metadata); one
// streamed call costs ~0.11 µs per KiB. A mismatch always falls back to checking each event alone, so the error
// still names the damaged event.
import { crc32Combine, crc32Range } from './crc.js';
import { ENTRY_WORDS, HOST_IS_LE } from './index-entry.js';
import type { MappedFile } from './segment-reader.js';
import { stillThisTurn } from './size-trust.js';
import type { Segment } from './segment.js';

const TWO_32 = 0x1_0000_0000;

/** Where one part's fields sit in an index entry, in 32-bit words (see index-entry.ts). */
interface PartFields {
  readonly offset: number;
  readonly length: number;
  readonly crc: number;
}
const META_FIELDS: PartFields = { offset: 0, length: 4, crc: 8 };
const DATA_FIELDS: PartFields = { offset: 2, length: 5, crc: 9 };

/**
 * Word `word` of the segment's cached index (counted from the cache's first entry, `cacheFrom`): from the aligned
 * word view on LE hosts (one load, no bounds checks).
 */
function indexWord(seg: Segment, word: number): number {
  return HOST_IS_LE ? seg.indexWords[word]! : seg.index.readUInt32LE(word * 4);
}

/**
 * Checks one part (metadata or data) of entries [from, to) of `seg` at once, stopping early at `maxBytes` or at an
 * entry that is damaged or not contiguous with the previous one. Returns the end of the run found intact
 * (from + 2 or more), or `from` when there was nothing worth checking at once or the bytes do not match.
 */
function checkRun(seg: Segment, file: MappedFile, fields: PartFields, from: number, to: number, maxBytes: number, held?: Buffer): number {
  const bad = seg.bad;
  // Only entries in the read cache (positions [cacheFrom, cached)): a run read earlier may have left the window since
  // (the reader moved on); its events are then checked one by one.
  if (from < seg.cacheFrom) return from;
  if (to > seg.cached) to = seg.cached;
  const first = seg.cacheFrom;
  const offsetWord = fields.offset;
  const lengthWord = fields.length;
  const crcWord = fields.crc;
  let word = (from - first) * ENTRY_WORDS;
  const start = indexWord(seg, word + offsetWord) + indexWord(seg, word + offsetWord + 1) * TWO_32;
  let expected = 0;
  let bytes = 0;
  let end = from;
  while (end < to && bytes < maxBytes) {
    if (bad !== null && bad.has(end)) break;
    word = (end - first) * ENTRY_WORDS;
    if (indexWord(seg, word + offsetWord) + indexWord(seg, word + offsetWord + 1) * TWO_32 !== start + bytes) break;
    const length = indexWord(seg, word + lengthWord);
    const crc = indexWord(seg, word + crcWord);
    expected = end === from ? crc : crc32Combine(expected, crc, length);
    bytes += length;
    end++;
  }
  if (end - from < 2) return from;
  try {
    const stop = start + bytes;
    // A mapping held since the read (the segment may have released its own) when it covers the run.
    const map = held !== undefined && stop <= held.length && stop <= file.knownSize ? held : file.cover(stop);
    return crc32Range(map, start, stop) === expected ? end : from;
  } catch {
    return from; // a file shorter than its entries: the per-event check reports it
  }
}

/** Metadata of entries [from, to) checked at once: true when all of it is intact. */
export function metadataRunIntact(seg: Segment, from: number, to: number): boolean {
  return checkRun(seg, seg.meta, META_FIELDS, from, to, Infinity) === to;
}

/** Most data bytes and events checked ahead of what was asked for: bounds the work wasted if the reader stops. */
const WINDOW_BYTES = 256 * 1024;
const WINDOW_EVENTS = 256;

/**
 * The data checks of the events of one readRange(), a window at a time. A window opens only when the events' data
 * is asked for in order (the previous event of the run was asked for too), so a reader picking sparse events
 * checks just those.
 */
export class DataCheckRun {
  /** Positions (in the segment) [checkedFrom, checkedTo) whose data was found intact by a window. */
  private checkedFrom = 0;
  private checkedTo = 0;
  private lastAsked = -2;

  constructor(
    private readonly segment: Segment,
    /** End (exclusive) of the run's positions in the segment. */
    private readonly to: number,
    /** The .data mapping at read time (the segment may release its own before the events are delivered). */
    private readonly dataMap: Buffer,
  ) {}

  /**
   * True when the data of the event at `pos` is known intact through a window (checking one now if the previous
   * event was asked for); false when the caller must check this event on its own.
   */
  covers(pos: number): boolean {
    const sequential = this.lastAsked === pos - 1;
    this.lastAsked = pos;
    if (pos >= this.checkedFrom && pos < this.checkedTo) return true;
    if (!sequential) return false;
    const to = Math.min(this.to, pos + WINDOW_EVENTS);
    const seg = this.segment;
    // Sizes are trusted for one turn of the event loop (size-trust.ts): a file truncated since is re-measured, so its
    // bytes are CORRUPTION, not SIGBUS. A consumer delivering a backlog reads many batches in one turn: no fstat each.
    if (!stillThisTurn(seg.data.measuredIn)) seg.data.measure();
    const end = checkRun(seg, seg.data, DATA_FIELDS, pos, to, WINDOW_BYTES, this.dataMap);
    if (end === pos) return false;
    this.checkedFrom = pos;
    this.checkedTo = end;
    return true;
  }
}
