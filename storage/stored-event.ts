// A committed event of the native log: metadata and data are zero-copy views of the mapped segment files, checked
// against their CRCs and re-checked against the files' sizes when touched (see segment-reader.ts on SIGBUS).
import { crc32 } from './crc.js';
import { stillThisTurn } from './size-trust.js';
import type { DataCheckRun } from './run-checks.js';
import type { Segment } from './segment.js';
import { StorageError, type StoredEvent } from './types.js';
import { decodeUtf8Range } from './utf8-range.js';

/** The one empty byte array handed out for no metadata or no data. */
export const NO_BYTES = new Uint8Array(0);

/** A committed event: byte arrays are slices of the mapped segment files (no copy). */
export class NativeStoredEvent implements StoredEvent {
  /** The data checksum was checked (or needs no check: verification is off). */
  private verified: boolean;
  /** The metadata view, made on first use (a consumer forwarding metadataUtf8() never needs it). */
  private metaView: Uint8Array | undefined;
  constructor(
    readonly id: number,
    readonly timestamp: number,
    /** The .meta mapping at read time (kept: it stays readable even if the segment is remapped or removed). */
    private readonly metaMap: Buffer,
    /** Where the metadata starts in the .meta file (and `metaMap`), and its length. */
    private readonly metaOffset: number,
    private readonly metaLength: number,
    readonly dataSize: number,
    private readonly segment: Segment,
    /**
     * The .data mapping at read time, kept for the same reason as `metaMap` (the segment drops its own once the
     * reader moves on: segment.ts releaseForReader). Empty, or too short, if the file could not be mapped then.
     */
    private dataMap: Buffer,
    private readonly dataOffset: number,
    private readonly dataCrc: number,
    verifyData: boolean,
    /** The readRange() run this event belongs to (checks data a window at a time); null for read(). */
    private readonly run: DataCheckRun | null = null,
  ) {
    this.verified = !verifyData;
  }

  /**
   * The metadata slice. Re-checked against the file's size (an fstat once per turn of the event loop) on each
   * access: a consumer reads it long after readRange() (batches are delivered one event at a time), and a .meta
   * file truncated since then must be CORRUPTION, not SIGBUS.
   */
  get metadata(): Uint8Array {
    if (this.metaLength === 0) return NO_BYTES;
    this.checkMetaSize();
    return (this.metaView ??= new Uint8Array(this.metaMap.buffer, this.metaMap.byteOffset + this.metaOffset, this.metaLength));
  }

  /**
   * The metadata decoded as UTF-8 straight from the mapping (no view is made: cheaper per event than decoding
   * `metadata`). Invalid UTF-8 throws a TypeError, as a fatal TextDecoder does. Checked against the file's size as
   * `metadata` is.
   */
  metadataUtf8(): string {
    if (this.metaLength === 0) return '';
    this.checkMetaSize();
    return decodeUtf8Range(this.metaMap, this.metaOffset, this.metaOffset + this.metaLength);
  }

  private checkMetaSize(): void {
    const file = this.segment.meta;
    const end = this.metaOffset + this.metaLength;
    // Inlined fast path of checkSize() (this runs once per delivered event).
    if (end > file.knownSize || !stillThisTurn(file.measuredIn)) file.checkSize(end);
  }

  data(): Uint8Array {
    const bytes = this.dataUnverified();
    if (this.verified || this.check(bytes)) return bytes;
    return this.dataUnverified(); // checked in a fresh mapping (see verify)
  }

  dataSlice(offset: number, size: number): Uint8Array {
    if (!(offset >= 0 && size >= 0 && offset + size <= this.dataSize)) {
      throw new RangeError(`slice [${offset}, ${offset + size}) is outside the ${this.dataSize} data bytes of event ${this.id}`);
    }
    if (!this.verified) this.check(null);
    return this.view(offset, size);
  }

  /**
   * Checks the data checksum, through the run's window when it covers this event. False when the bytes checked were
   * this process's own changes to its mapping and the intact ones are in a fresh mapping now (view() again).
   */
  private check(bytes: Uint8Array | null): boolean {
    if (this.run !== null && this.run.covers(this.id - this.segment.baseId)) {
      this.verified = true;
      return true;
    }
    return this.verify(bytes ?? this.dataUnverified());
  }

  private verify(bytes: Uint8Array): boolean {
    if (crc32(bytes) === this.dataCrc) {
      this.verified = true;
      return true;
    }
    // Another consumer of this process may have written into its slice of this event (MAP_PRIVATE: only our copy).
    const file = this.segment.data;
    if (file.changedInMemoryOnly(this.dataOffset, this.dataSize, this.dataCrc)) {
      this.dataMap = file.coverFresh(this.dataOffset + this.dataSize);
      if (crc32(this.dataUnverified()) === this.dataCrc) {
        this.verified = true;
        return false;
      }
    }
    throw new StorageError('CORRUPTION', `data of event ${this.id} fails its checksum (${this.segment.paths.data} at offset ${this.dataOffset})`, {
      file: this.segment.paths.data, offset: this.dataOffset, id: this.id,
    });
  }

  /** The data slice without checking its CRC (for callers that verify elsewhere or not at all). */
  dataUnverified(): Uint8Array {
    return this.view(0, this.dataSize);
  }

  /** Bytes [offset, offset + size) of the data as a view of the mapping (the whole data part is mapped first). */
  private view(offset: number, size: number): Uint8Array {
    if (size === 0) return NO_BYTES;
    // Data is often asked for long after the readRange() that measured the file (a consumer delivers a batch one
    // event at a time): re-measured once per turn of the event loop, so a truncated file is CORRUPTION, not SIGBUS.
    const end = this.dataOffset + this.dataSize;
    const file = this.segment.data;
    let map = this.dataMap;
    if (end > map.length) map = this.dataMap = file.coverFresh(end); // not mapped at read time: map now, or report why not
    else if (end > file.knownSize || !stillThisTurn(file.measuredIn)) file.checkSize(end);
    // A plain Uint8Array view of the mapping (cheaper to make than Buffer#subarray; same memory).
    return new Uint8Array(map.buffer, map.byteOffset + this.dataOffset + offset, size);
  }
}
