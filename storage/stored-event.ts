// A committed event of the native log: metadata and data are zero-copy views of the mapped segment files, checked
// against their CRCs and re-checked against the files' sizes when touched (see segment-reader.ts on SIGBUS).
import { crc32 } from './crc.js';
import { stillThisTurn } from './size-trust.js';
import type { DataCheckRun } from './run-checks.js';
import type { Segment } from './segment.js';
import { StorageError, type StoredEvent } from './types.js';

const EMPTY = new Uint8Array(0);

/** A committed event: byte arrays are slices of the mapped segment files (no copy). */
export class NativeStoredEvent implements StoredEvent {
  private verified = false;
  constructor(
    readonly id: number,
    readonly timestamp: number,
    private readonly meta: Uint8Array,
    readonly dataSize: number,
    private readonly segment: Segment,
    private readonly dataOffset: number,
    private readonly dataCrc: number,
    private readonly verifyData: boolean,
    /** The readRange() run this event belongs to (checks data a window at a time); null for read(). */
    private readonly run: DataCheckRun | null = null,
    /** End offset of the metadata in the .meta file. */
    private readonly metaEnd = 0,
  ) {}

  /**
   * The metadata slice. Re-checked against the file's size (an fstat once per turn of the event loop) on each
   * access: a consumer reads it long after readRange() (batches are delivered one event at a time), and a .meta
   * file truncated since then must be CORRUPTION, not SIGBUS.
   */
  get metadata(): Uint8Array {
    const file = this.segment.meta;
    // Inlined fast path of coverFresh() (this getter runs once per delivered event).
    if (this.metaEnd > file.knownSize || !stillThisTurn(file.measuredIn)) {
      if (this.meta.length > 0) file.coverFresh(this.metaEnd);
    }
    return this.meta;
  }

  data(): Uint8Array {
    const bytes = this.dataUnverified();
    if (this.verifyData && !this.verified) this.check(bytes);
    return bytes;
  }

  dataSlice(offset: number, size: number): Uint8Array {
    if (!(offset >= 0 && size >= 0 && offset + size <= this.dataSize)) {
      throw new RangeError(`slice [${offset}, ${offset + size}) is outside the ${this.dataSize} data bytes of event ${this.id}`);
    }
    if (this.verifyData && !this.verified) this.check(null);
    return this.view(offset, size);
  }

  /** Checks the data checksum, through the run's window when it covers this event. */
  private check(bytes: Uint8Array | null): void {
    if (this.run !== null && this.run.covers(this.id - this.segment.baseId)) this.verified = true;
    else this.verify(bytes ?? this.dataUnverified());
  }

  private verify(bytes: Uint8Array): void {
    if (crc32(bytes) !== this.dataCrc) {
      throw new StorageError('CORRUPTION', `data of event ${this.id} fails its checksum (${this.segment.paths.data} at offset ${this.dataOffset})`, {
        file: this.segment.paths.data, offset: this.dataOffset, id: this.id,
      });
    }
    this.verified = true;
  }

  /** The data slice without checking its CRC (for callers that verify elsewhere or not at all). */
  dataUnverified(): Uint8Array {
    return this.view(0, this.dataSize);
  }

  /** Bytes [offset, offset + size) of the data as a view of the mapping (the whole data part is mapped first). */
  private view(offset: number, size: number): Uint8Array {
    if (size === 0) return EMPTY;
    // Data is often asked for long after the readRange() that measured the file (a consumer delivers a batch one
    // event at a time): re-measured once per turn of the event loop, so a truncated file is CORRUPTION, not SIGBUS.
    const map = this.segment.data.coverFresh(this.dataOffset + this.dataSize);
    // A plain Uint8Array view of the mapping (cheaper to make than Buffer#subarray; same memory).
    return new Uint8Array(map.buffer, map.byteOffset + this.dataOffset + offset, size);
  }
}
