// The one place that calls mmap-io. Segment files are mapped copy-on-write (MAP_PRIVATE, readable and writable)
// rather than read-only: slices of the mapping are handed to users as event data, and a user writing into one must
// not crash the process with SIGSEGV (as a PROT_READ mapping would) nor change the stored event (MAP_SHARED +
// PROT_WRITE would, and needs a writable descriptor). A written page becomes a private copy of this process;
// untouched pages stay the shared page cache, and on Linux they keep showing what other processes append.
import mmapModule from 'mmap-io';

// mmap-io is CommonJS whose typings declare a default export that does not exist at run time (module.exports
// itself is the API): accept either shape.
type MmapIo = typeof mmapModule.default;
const mmap: MmapIo = (mmapModule as unknown as { default?: MmapIo }).default ?? (mmapModule as unknown as MmapIo);

/** Page size of the machine (mapping offsets must be multiples of it). */
export const PAGE_SIZE: number = mmap.PAGESIZE;

/** Maps `length` bytes of the file open on `fd` from `offset` (a multiple of PAGE_SIZE). */
export function mapFile(fd: number, length: number, offset = 0): Buffer {
  return mmap.map(length, 3 /* PROT_READ | PROT_WRITE */, mmap.MAP_PRIVATE, fd, offset, mmap.MADV_NORMAL);
}
