// Data checksums of the events of one readRange() call, checked a window at a time. Checking each event's data on
// its own costs a native call per event and reads memory the hardware has not prefetched (~0.26 µs per 1 KiB in a
// consumer); checking a window of consecutive events is one call streaming over contiguous bytes (~0.11 µs per KiB),
// compared with the stored per-event CRCs combined. A window opens only when the events' data is being asked for
// in order (the previous event of the run was asked for too), so a consumer selecting sparse events pays nothing
// for the others; a mismatch falls back to the per-event check, which names the damaged event.
import { crc32Combine, crc32Range } from './crc.js';
import { ENTRY_SIZE, entryDataCrc, entryDataLength, entryDataOffset } from './index-entry.js';
import type { Segment } from './segment.js';

/** Most bytes and events checked ahead of what was asked for: bounds the work wasted if the reader stops. */
const WINDOW_BYTES = 256 * 1024;
const WINDOW_EVENTS = 256;

export class DataCheckRun {
  /** Positions (in the segment) [checkedFrom, checkedTo) whose data was found intact by a window. */
  private checkedFrom = 0;
  private checkedTo = 0;
  private lastAsked = -2;

  constructor(
    private readonly segment: Segment,
    /** Positions of the run's events in the segment: [from, to). */
    private readonly from: number,
    private readonly to: number,
  ) {}

  /**
   * True when the data of the event at `pos` is known intact through a window (checking one now if the previous
   * event was asked for); false when the caller must check this event on its own.
   */
  covers(pos: number): boolean {
    const sequential = this.lastAsked === pos - 1;
    this.lastAsked = pos;
    if (pos >= this.checkedFrom && pos < this.checkedTo) return true;
    return sequential && this.checkWindow(pos);
  }

  private checkWindow(pos: number): boolean {
    const seg = this.segment;
    const index = seg.index;
    const bad = seg.bad;
    const start = entryDataOffset(index, pos * ENTRY_SIZE);
    let expected = 0;
    let bytes = 0;
    let end = pos;
    while (end < this.to && end - pos < WINDOW_EVENTS && bytes < WINDOW_BYTES) {
      if (bad !== null && bad.has(end)) break;
      const at = end * ENTRY_SIZE;
      const length = entryDataLength(index, at);
      // Events are contiguous in the data file; anything else ends the window (the per-event check will judge).
      if (entryDataOffset(index, at) !== start + bytes) break;
      const crc = entryDataCrc(index, at);
      expected = end === pos ? crc : crc32Combine(expected, crc, length);
      bytes += length;
      end++;
    }
    if (end - pos < 2) return false;
    let actual: number;
    try {
      const map = seg.data.cover(start + bytes);
      actual = crc32Range(map, start, start + bytes);
    } catch {
      return false; // a file shorter than its entries: the per-event check reports it
    }
    if (actual !== expected) return false;
    this.checkedFrom = pos;
    this.checkedTo = end;
    return true;
  }
}
