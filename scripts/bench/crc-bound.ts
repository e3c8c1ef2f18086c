// The bound of a verified read: CRC-32 of one core over a file as a reader meets it, a fresh memory mapping of
// bytes in the page cache (so the page faults of first touch are paid, as in a consumer), walked a piece at a time.
// A heap buffer that was just written would measure the CRC instructions alone and overstate what a reader can do.
import fs from 'node:fs';
import { crc32 } from '../../storage/crc.js';
import { mapFile } from '../../storage/map-file.js';

/**
 * CRC-32 throughput (GB/s) of one core over `file` (read once first, so that it is in the page cache), in `piece`-byte
 * steps, each round on a fresh mapping; the best of `rounds`. The returned `crc` (of the last round) keeps the work
 * from being optimised away and lets a caller compare it with a known value.
 */
export function crc32MappedGBps(file: string, piece = 1 << 20, rounds = 3): { gbps: number; crc: number } {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    if (size === 0) throw new Error(`${file} is empty`);
    crc32(mapFile(fd, size)); // brings the file into the page cache
    let best = 0;
    let crc = 0;
    for (let r = 0; r < rounds; r++) {
      const map = mapFile(fd, size);
      const t0 = performance.now();
      crc = 0;
      for (let at = 0; at < size; at += piece) crc = crc32(map.subarray(at, Math.min(size, at + piece)), crc);
      best = Math.max(best, size / 1e9 / ((performance.now() - t0) / 1000));
    }
    return { gbps: best, crc };
  } finally {
    fs.closeSync(fd);
  }
}
