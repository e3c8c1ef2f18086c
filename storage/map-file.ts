// The one place that calls mmap-io. Segment files are mapped copy-on-write (MAP_PRIVATE, readable and writable)
// rather than read-only: slices of the mapping are handed to users as event data, and a user writing into one must
// not crash the process with SIGSEGV (as a PROT_READ mapping would) nor change the stored event (MAP_SHARED +
// PROT_WRITE would, and needs a writable descriptor). A written page becomes a private copy of this process;
// untouched pages stay the shared page cache, and on Linux they keep showing what other processes append.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type mmapModule from 'mmap-io';
import { StorageError } from './types.js';

type MmapIo = typeof mmapModule.default;
const require = createRequire(import.meta.url);

/**
 * mmap-io's entry finds its compiled binding through @mapbox/node-pre-gyp, which loads about 100 modules (60 ms of
 * every process start) to compute one path. That path is computed here the same way from mmap-io's package.json
 * and the binding loaded directly; anything unexpected falls back to the package's own entry.
 */
function loadMmap(): MmapIo {
  try {
    const pkgFile = require.resolve('mmap-io/package.json');
    const { binary } = JSON.parse(fs.readFileSync(pkgFile, 'utf8')) as { binary: { module_name: string; module_path: string } };
    const dir = binary.module_path
      .replace('{configuration}', 'Release')
      .replace('{node_abi}', `node-v${process.versions.modules}`)
      .replace('{platform}', process.platform)
      .replace('{arch}', process.arch);
    const binding = require(path.join(path.dirname(pkgFile), dir, `${binary.module_name}.node`)) as MmapIo;
    if (typeof binding.map === 'function' && typeof binding.PAGESIZE === 'number') return binding;
  } catch {
    // fall through
  }
  // mmap-io is CommonJS whose typings declare a default export that does not exist at run time (module.exports
  // itself is the API): accept either shape.
  const mod = require('mmap-io') as { default?: MmapIo };
  return mod.default ?? (mod as unknown as MmapIo);
}
const mmap: MmapIo = loadMmap();

/** Page size of the machine (mapping offsets must be multiples of it). */
export const PAGE_SIZE: number = mmap.PAGESIZE;

/** Bytes mapped by this process so far (mappings are released by the GC): what tests bound, and a diagnostic. */
let bytesMapped = 0;

export function bytesMappedSoFar(): number {
  return bytesMapped;
}

/** The errno name (ENOMEM) of mmap-io's "mmap failed, 12", or null for another message. */
function errnoName(message: string): string | null {
  const m = /failed, (\d+)$/.exec(message);
  if (m === null) return null;
  const n = Number(m[1]);
  for (const [name, value] of Object.entries(os.constants.errno)) if (value === n) return name;
  return `errno ${n}`;
}

/**
 * Maps `length` bytes of the file open on `fd` from `offset` (a multiple of PAGE_SIZE). A mapping that fails
 * (ENOMEM: out of address space, `ulimit -v`, or the per-process count of mappings) is IO, `details.errno` naming
 * the error; the file is not at fault.
 */
export function mapFile(fd: number, length: number, offset = 0): Buffer {
  let mapping: Buffer;
  try {
    mapping = mmap.map(length, 3 /* PROT_READ | PROT_WRITE */, mmap.MAP_PRIVATE, fd, offset, mmap.MADV_NORMAL);
  } catch (cause) {
    const errno = errnoName((cause as Error).message ?? '');
    throw new StorageError('IO', `cannot map ${length} bytes of a file at offset ${offset}: ${errno ?? (cause as Error).message}`, { errno, cause, offset });
  }
  bytesMapped += length;
  return mapping;
}
