// Names and paths of the files of a partition: one folder per partition, three files per segment.
import fs from 'node:fs';
import path from 'node:path';
import { fsyncDir, sizeOrNull } from './fs-helpers.js';
import { StorageError } from './types.js';

export const PARTITION_DIR_DIGITS = 8;
export const SEGMENT_NAME_DIGITS = 20;
export const WRITER_LOCK_NAME = 'writer.lock';

const SEGMENT_FILE_RE = /^(\d{20})\.(index|meta|data)$/;

export function partitionDirName(index: number): string {
  return String(index).padStart(PARTITION_DIR_DIGITS, '0');
}

export interface SegmentPaths {
  index: string;
  meta: string;
  data: string;
}

/** `<baseId zero-padded to 20 digits>.{index,meta,data}`: names sort in id order. */
export function segmentPaths(dir: string, baseId: number): SegmentPaths {
  const stem = path.join(dir, String(baseId).padStart(SEGMENT_NAME_DIGITS, '0'));
  return { index: `${stem}.index`, meta: `${stem}.meta`, data: `${stem}.data` };
}

/** Which of its three files each segment of a partition has, by base id (a missing folder has no segments). */
export function listSegmentFiles(dir: string): Map<number, Set<'index' | 'meta' | 'data'>> {
  const found = new Map<number, Set<'index' | 'meta' | 'data'>>();
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return found;
    // e.g. EMFILE (out of descriptors): a failure to read the folder, not a fault of the partition's data.
    throw new StorageError('IO', `cannot list ${dir}: ${(err as Error).message}`, { file: dir, cause: err });
  }
  for (const name of names) {
    const m = SEGMENT_FILE_RE.exec(name);
    if (m === null) continue;
    const base = Number(m[1]);
    let kinds = found.get(base);
    if (kinds === undefined) found.set(base, (kinds = new Set()));
    kinds.add(m[2] as 'index' | 'meta' | 'data');
  }
  return found;
}

/**
 * Whether the files at `base` are no segment but what a writer killed while creating one left: the metadata and
 * data files are created (empty) before the index, which is what makes a segment exist. Nothing was committed in
 * them, and a writer that did not see them went on appending past `base` in the previous segment, so they may lie
 * inside its id range. (A segment whose index was deleted has bytes in its other files: it is damage, not this.)
 */
export function isInterruptedCreation(dir: string, base: number, kinds: ReadonlySet<'index' | 'meta' | 'data'>): boolean {
  if (kinds.has('index')) return false;
  const p = segmentPaths(dir, base);
  return (sizeOrNull(p.meta) ?? 0) === 0 && (sizeOrNull(p.data) ?? 0) === 0;
}

/**
 * Base ids of the segments of a partition, ascending: every base that has any of the three files but an
 * interrupted creation's, so that a segment whose index was deleted still occupies its id range (and reads of it
 * fail) instead of vanishing.
 */
export function listSegmentBases(dir: string, files: Map<number, Set<'index' | 'meta' | 'data'>> = listSegmentFiles(dir)): number[] {
  const bases: number[] = [];
  for (const [base, kinds] of files) if (!isInterruptedCreation(dir, base, kinds)) bases.push(base);
  return bases.sort((a, b) => a - b);
}

/** Every base id with any segment file, interrupted creations included (what removal must not miss), ascending. */
export function listSegmentFileBases(dir: string): number[] {
  return [...listSegmentFiles(dir).keys()].sort((a, b) => a - b);
}

export { fsyncDir };
