// The three files of a reference-format partition (`index`, `metadata`, `data`) as this process sees them: the
// readers that map them, the decoding of an entry, and the scan of the tail that finds the committed end (the
// format has no checksums: an entry is committed when its records lie within the files and its metadata length
// prefix matches). Recovery's description and cut of a torn tail are here too.
import fs from 'node:fs';
import path from 'node:path';
import { StorageError, type RecoveryCut, type RecoveryReport } from '../types.js';
import { MappedFileReader, type MappedFileReaderOptions } from './mapped-file-reader.js';
import {
  DATA_FILE, INDEX_FILE, METADATA_FILE, METADATA_PREFIX_BYTES, REFERENCE_ENTRY_BYTES, decodeIndexEntry, readU64,
  type ReferenceIndexEntry,
} from './reference-layout.js';

export interface TailScan {
  /** Whole entries in the index file. */
  entries: number;
  /** Entries up to and including the last one whose bytes exist and whose metadata prefix matches. */
  committed: number;
  indexBytes: number;
  metadataBytes: number;
  dataBytes: number;
  /** Where the last committed entry ends in metadata / data. */
  metadataEnd: number;
  dataEnd: number;
}

export class ReferenceFiles {
  readonly indexPath: string;
  readonly metadataPath: string;
  readonly dataPath: string;
  readonly index: MappedFileReader;
  readonly metadata: MappedFileReader;
  readonly data: MappedFileReader;

  constructor(dir: string, mapOpts: MappedFileReaderOptions) {
    this.indexPath = path.join(dir, INDEX_FILE);
    this.metadataPath = path.join(dir, METADATA_FILE);
    this.dataPath = path.join(dir, DATA_FILE);
    this.index = new MappedFileReader(this.indexPath, mapOpts);
    this.metadata = new MappedFileReader(this.metadataPath, mapOpts);
    this.data = new MappedFileReader(this.dataPath, mapOpts);
  }

  /** The three paths, in the order the writer commits: records first, the index entry last. */
  get paths(): string[] {
    return [this.indexPath, this.metadataPath, this.dataPath];
  }

  corruption(file: string, offset: number, id: number, what: string): StorageError {
    return new StorageError('CORRUPTION', `${file} at offset ${offset} (event ${id}): ${what}`, { file, offset, id });
  }

  entryAt(id: number): ReferenceIndexEntry {
    const at = id * REFERENCE_ENTRY_BYTES;
    const buf = this.index.slice(at, REFERENCE_ENTRY_BYTES);
    if (buf === null) {
      throw new StorageError('CORRUPTION', `${this.indexPath}: entry ${id} at offset ${at} is past the end of the file`, {
        file: this.indexPath, offset: at, id,
      });
    }
    return decodeIndexEntry(buf, 0, this.indexPath, at);
  }

  /** Reads the files' sizes and finds the committed end (trailing entries whose bytes do not exist are torn). */
  scanTail(knownCommitted: number): TailScan {
    const indexBytes = this.index.size();
    const metadataBytes = this.metadata.size();
    const dataBytes = this.data.size();
    const entries = Math.floor(indexBytes / REFERENCE_ENTRY_BYTES);
    let committed = entries;
    let last: ReferenceIndexEntry | null = null;
    const floor = Math.min(knownCommitted, entries);
    while (committed > floor) {
      last = this.tailEntryIfCommitted(committed - 1, metadataBytes, dataBytes);
      if (last !== null) break;
      committed--;
    }
    if (last === null && committed > 0) last = this.entryAt(committed - 1);
    return {
      entries, committed, indexBytes, metadataBytes, dataBytes,
      metadataEnd: last === null ? 0 : last.metadataOffset + last.metadataSize,
      dataEnd: last === null ? 0 : last.dataOffset + last.dataSize,
    };
  }

  /** The entry if its records lie within the files and its metadata prefix matches; null if it is torn. */
  private tailEntryIfCommitted(id: number, metadataBytes: number, dataBytes: number): ReferenceIndexEntry | null {
    let e: ReferenceIndexEntry;
    try {
      e = this.entryAt(id);
    } catch (err) {
      if (err instanceof StorageError && err.code === 'CORRUPTION') return null;
      throw err;
    }
    if (e.metadataSize < METADATA_PREFIX_BYTES) return null;
    if (e.metadataOffset + e.metadataSize > metadataBytes || e.dataOffset + e.dataSize > dataBytes) return null;
    const prefix = this.metadata.slice(e.metadataOffset, METADATA_PREFIX_BYTES);
    if (prefix === null) return null;
    if (readU64(prefix, 0, this.metadataPath, e.metadataOffset) !== e.metadataSize - METADATA_PREFIX_BYTES) return null;
    return e;
  }

  /** Describes what lies past the committed end (null if nothing); `truncated` false (the caller may cut it). */
  describeTail(scan: TailScan, partition: number): RecoveryReport | null {
    const notes: string[] = [];
    const cuts: RecoveryCut[] = [];
    const goodIndexBytes = scan.committed * REFERENCE_ENTRY_BYTES;
    let droppedEntries = 0;
    if (scan.indexBytes > goodIndexBytes) {
      droppedEntries = Math.ceil((scan.indexBytes - goodIndexBytes) / REFERENCE_ENTRY_BYTES);
      const partial = scan.indexBytes % REFERENCE_ENTRY_BYTES;
      notes.push(
        `${this.indexPath}: ${scan.indexBytes - goodIndexBytes} bytes from offset ${goodIndexBytes} ` +
          `(${scan.entries - scan.committed} entries pointing past the end of metadata/data` +
          (partial > 0 ? `, a partial entry of ${partial} bytes` : '') + ')',
      );
      cuts.push({ file: this.indexPath, offset: goodIndexBytes, bytes: scan.indexBytes - goodIndexBytes, reason: 'partial entry or entries whose records are not complete' });
    }
    let droppedBytes = 0;
    for (const [file, size, end] of [[this.metadataPath, scan.metadataBytes, scan.metadataEnd], [this.dataPath, scan.dataBytes, scan.dataEnd]] as const) {
      if (size <= end) continue;
      droppedBytes += size - end;
      notes.push(`${file}: ${size - end} orphan bytes from offset ${end}`);
      cuts.push({ file, offset: end, bytes: size - end, reason: 'bytes past the last committed record' });
    }
    if (notes.length === 0) return null;
    return { partition, firstCutId: droppedEntries > 0 ? scan.committed : null, droppedEntries, droppedBytes, notes, cuts, truncated: false };
  }

  /** Cuts the files back to the committed end; the caller holds the writer lock. */
  truncateTail(scan: TailScan): void {
    const cut = (file: string, size: number, to: number): void => {
      if (size > to) fs.truncateSync(file, to);
    };
    // Index first: once it is cut no entry refers to the bytes cut next.
    cut(this.indexPath, scan.indexBytes, scan.committed * REFERENCE_ENTRY_BYTES);
    cut(this.metadataPath, scan.metadataBytes, scan.metadataEnd);
    cut(this.dataPath, scan.dataBytes, scan.dataEnd);
  }

  /** Newest modification time of the three files (0 when none exists). */
  newestChangeMs(): number {
    let newest = 0;
    for (const f of this.paths) {
      try {
        newest = Math.max(newest, fs.statSync(f).mtimeMs);
      } catch {
        // A missing file changed nothing.
      }
    }
    return newest;
  }

  /** One fstat per file per read call: slices below are only taken within these sizes (no SIGBUS). */
  measure(): void {
    this.index.size();
    this.metadata.size();
    this.data.size();
  }

  close(): void {
    this.index.close();
    this.metadata.close();
    this.data.close();
  }
}
