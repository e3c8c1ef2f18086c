// Positional writes of a run's bytes: pieces already back to back in one buffer written as they lie, other small
// runs gathered into a staging buffer (one write), big ones written with writev in chunks of IOV_MAX pieces, short
// writes finished.
import fs from 'node:fs';
import type { AppendEvent } from './types.js';

/** writev() takes at most IOV_MAX (1024 on Linux) pieces per call. */
const IOV_MAX = 1024;

/** Writes bytes [0, length) of `bytes` at `position`, looping over short writes. */
export function writeAll(fd: number, bytes: Uint8Array, position: number, length = bytes.length): void {
  let done = 0;
  while (done < length) {
    done += fs.writeSync(fd, bytes, done, length - done, position + done);
  }
}

/** Below this total, a run's pieces are copied into a staging buffer and written with one write. */
export const STAGE_LIMIT = 1024 * 1024;
const stages: Buffer[] = [Buffer.allocUnsafeSlow(64 * 1024), Buffer.allocUnsafeSlow(64 * 1024)];

/** Staging buffer `which` (0: metadata, 1: data) with room for `bytes`. */
export function staging(which: 0 | 1, bytes: number): Buffer {
  let b = stages[which]!;
  if (b.length < bytes) {
    b = Buffer.allocUnsafeSlow(Math.min(STAGE_LIMIT, Math.max(bytes, b.length * 2)));
    stages[which] = b;
  }
  return b;
}

/** Writes `pieces` back to back at `position` with as few writev calls as IOV_MAX allows. */
export function writePieces(fd: number, pieces: Uint8Array[], total: number, position: number): void {
  if (total === 0) return;
  if (pieces.length === 1) return writeAll(fd, pieces[0]!, position);
  for (let i = 0; i < pieces.length; i += IOV_MAX) {
    const chunk = pieces.length <= IOV_MAX ? pieces : pieces.slice(i, i + IOV_MAX);
    let chunkBytes = 0;
    for (const p of chunk) chunkBytes += p.length;
    let written = fs.writevSync(fd, chunk, position);
    if (written < chunkBytes) {
      // A short write (huge batch, signal): finish the chunk piece by piece.
      let skip = written;
      for (const p of chunk) {
        if (skip >= p.length) {
          skip -= p.length;
          continue;
        }
        writeAll(fd, p.subarray(skip), position + written);
        written += p.length - skip;
        skip = 0;
      }
    }
    position += chunkBytes;
  }
}

/**
 * The metadata of events [from, to) as one view when it lies back to back in one buffer (a producer's arena puts
 * it so): written with one write, no staging copy. null when it does not.
 */
export function metadataBackToBack(events: readonly AppendEvent[], from: number, to: number, total: number): Uint8Array | null {
  const first = events[from]!.metadata;
  const buffer = first.buffer;
  let end = first.byteOffset + first.length;
  for (let i = from + 1; i < to; i++) {
    const meta = events[i]!.metadata;
    if (meta.byteOffset !== end || meta.buffer !== buffer) return null;
    end += meta.length;
  }
  return new Uint8Array(buffer, first.byteOffset, total);
}

/** The non-empty metadata of events [from, to), for a run too big to stage (written with writev, uncopied). */
export function metadataPieces(events: readonly AppendEvent[], from: number, to: number): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  for (let i = from; i < to; i++) if (events[i]!.metadata.length > 0) pieces.push(events[i]!.metadata);
  return pieces;
}
