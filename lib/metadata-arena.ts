// Where a producer encodes pushed JSON text: straight into a shared chunk (one Buffer#write per event, no
// Buffer.from allocation), so a batch's metadata lies back to back and the files engine writes it with one write,
// uncopied (segment-writer.ts). A byte handed out is never written again: the memory and nats drivers keep the views
// as the stored metadata. Only the chunk's unclaimed tail is written to, and a push whose check fails leaves its
// bytes unclaimed (the next push overwrites them).
import { DiasporaError, ErrorCode } from './errors.js';
import { isWellFormedString } from './json-check.js';
import { checkJsonBytes, checkJsonSyntax } from './json-text.js';

/** Size of a chunk; a text that could need more than MAX_IN_ARENA bytes gets a buffer of its own. */
const CHUNK_BYTES = 64 * 1024;
const MAX_IN_ARENA = 8 * 1024;

export class MetadataArena {
  /** allocUnsafeSlow: a buffer of its own, at byte offset 0 of its ArrayBuffer (no pool). */
  private chunk: Buffer = Buffer.allocUnsafeSlow(CHUNK_BYTES);
  /** The chunk's ArrayBuffer, kept: the `buffer` getter costs a call per view otherwise. */
  private chunkBuffer: ArrayBufferLike = this.chunk.buffer;
  /** Bytes [0, used) of the chunk are handed out (or were skipped): never written again. */
  private used = 0;

  /**
   * The checked UTF-8 bytes of JSON text `text`, as a view of the arena. A lone surrogate or bad syntax is BAD_JSON
   * and claims nothing.
   */
  encodeJson(text: string): Uint8Array {
    // Encoding would replace a lone surrogate with U+FFFD: refuse it first, so what is stored is what was pushed.
    if (!isWellFormedString(text)) {
      throw new DiasporaError(ErrorCode.BAD_JSON, 'Invalid JSON metadata text: lone surrogate (not representable in UTF-8)');
    }
    const worst = text.length * 3; // UTF-8 bytes per UTF-16 unit, at most
    if (worst > MAX_IN_ARENA) {
      const own = Buffer.from(text, 'utf8');
      checkJsonSyntax(own);
      return own;
    }
    const at = this.room(worst);
    const n = this.chunk.write(text, at, 'utf8');
    const view = this.view(at, n);
    checkJsonSyntax(view);
    this.used = at + n;
    return view;
  }

  /**
   * A checked copy of JSON text given as UTF-8 bytes (copied: the caller may reuse its array before the batch is
   * written, and what was checked is what is stored). Bad syntax or invalid UTF-8 is BAD_JSON and claims nothing.
   */
  copyJson(bytes: Uint8Array): Uint8Array {
    if (bytes.length > MAX_IN_ARENA) {
      const own = Buffer.from(bytes);
      checkJsonBytes(own);
      return own;
    }
    const at = this.room(bytes.length);
    this.chunk.set(bytes, at);
    const view = this.view(at, bytes.length);
    checkJsonBytes(view);
    this.used = at + bytes.length;
    return view;
  }

  /** A plain Uint8Array view: Buffer#subarray costs more than the rest of a small push's encoding. */
  private view(at: number, length: number): Uint8Array {
    return new Uint8Array(this.chunkBuffer, at, length);
  }

  /** Where `bytes` free bytes start (a fresh chunk when the current one lacks them). */
  private room(bytes: number): number {
    if (this.used + bytes > this.chunk.length) {
      // The old chunk stays alive only through the views already handed out.
      this.chunk = Buffer.allocUnsafeSlow(CHUNK_BYTES);
      this.chunkBuffer = this.chunk.buffer;
      this.used = 0;
    }
    return this.used;
  }
}
