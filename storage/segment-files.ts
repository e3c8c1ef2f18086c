// Names and paths of the files of a partition: one folder per partition, three files per segment.
import fs from 'node:fs';
import path from 'node:path';
import { fsyncDir } from './fs-helpers.js';

export const PARTITION_DIR_DIGITS = 8;
export const SEGMENT_NAME_DIGITS = 20;
export const WRITER_LOCK_NAME = 'writer.lock';

const SEGMENT_INDEX_RE = /^(\d{20})\.index$/;

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

/** Base ids of the segments of a partition (those with an index file), ascending. */
export function listSegmentBases(dir: string): number[] {
  const bases: number[] = [];
  for (const name of fs.readdirSync(dir)) {
    const m = SEGMENT_INDEX_RE.exec(name);
    if (m) bases.push(Number(m[1]));
  }
  return bases.sort((a, b) => a - b);
}

export { fsyncDir };
