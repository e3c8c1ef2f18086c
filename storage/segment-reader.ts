// Memory mappings of segment files (copy-on-write, see map-file.ts). Bytes are only ever touched below the file size measured by
// fstat (touching a page past the end of the file raises SIGBUS): a committed entry pointing further is
// re-measured first, and is CORRUPTION if the file is still too short. A file that may still grow (the last
// segment) is mapped with headroom past its current end, so that a reader tailing a live writer does not need a
// new mapping per batch: the pages past the end become readable as the file grows (MAP_SHARED), and measured
// without headroom a tailing consumer piled up thousands of mappings faster than the GC released them (Linux
// allows 65,530 per process). Old mappings are unmapped by the GC once no slice refers to them, so slices handed
// out stay valid after close() and even after the file is unlinked.
import fs from 'node:fs';
import { mapFile } from './map-file.js';
import { StorageError } from './types.js';


/** Biggest mapping mmap-io can make (its sizes are 32-bit signed ints). */
export const MAX_MAPPING_BYTES = 0x7fff_ffff;
/** How far past the current end a growing file is mapped. */
export const GROWTH_HEADROOM_BYTES = 64 * 1024 * 1024;
const EMPTY = Buffer.alloc(0);

export class MappedFile {
  readonly path: string;
  private fd: number | null = null;
  private mapping: Buffer = EMPTY;
  /** File size measured by the last fstat: bytes below it may be touched. */
  private knownSize = 0;
  /** Set once the file can no longer grow: its descriptor is closed after each mapping (no fd per old segment). */
  sealed = false;

  constructor(filePath: string) {
    this.path = filePath;
  }

  /** A mapping covering at least bytes [0, end) of the file. Throws CORRUPTION if the file is shorter. */
  cover(end: number): Buffer {
    if (end <= this.knownSize && end <= this.mapping.length) return this.mapping;
    return this.remap(end);
  }

  private remap(end: number): Buffer {
    if (this.fd === null) {
      try {
        this.fd = fs.openSync(this.path, 'r');
      } catch (cause) {
        throw new StorageError('CORRUPTION', `cannot open segment file ${this.path}`, { file: this.path, offset: 0, cause });
      }
    }
    const size = fs.fstatSync(this.fd).size;
    if (size < end) {
      throw new StorageError('CORRUPTION', `${this.path} is ${size} bytes long but a committed entry needs ${end}`, {
        file: this.path, offset: size,
      });
    }
    if (size > MAX_MAPPING_BYTES) {
      throw new StorageError('EVENT_TOO_LARGE', `${this.path} is too large to map (${size} bytes)`, { file: this.path });
    }
    this.knownSize = size;
    if (end <= this.mapping.length) {
      // The file grew into the headroom already mapped.
      if (this.sealed) this.closeFd();
      return this.mapping;
    }
    const length = this.sealed ? size : Math.min(MAX_MAPPING_BYTES, size + GROWTH_HEADROOM_BYTES);
    this.mapping = mapFile(this.fd, length);
    if (this.sealed) this.closeFd();
    return this.mapping;
  }

  /** Current size of the file on disk. */
  size(): number {
    if (this.fd === null) return fs.statSync(this.path).size;
    return fs.fstatSync(this.fd).size;
  }

  /** No more growth: release the descriptor (the mapping stays). */
  seal(): void {
    this.sealed = true;
    this.closeFd();
  }

  private closeFd(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }

  /** Closes the descriptor; existing mappings (and slices of them) stay readable until collected. */
  close(): void {
    this.closeFd();
    this.mapping = EMPTY;
  }
}
