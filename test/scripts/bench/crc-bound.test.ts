// The CRC-32 bound of `npm run bench`: it must checksum every byte of the file it maps (pieces chained), or the
// bound it reports would be for less work than a verified read does.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { crc32MappedGBps } from '../../../scripts/bench/crc-bound.js';
import { tempDir } from '../../temp-dir.js';

test('crc32MappedGBps checksums the whole mapped file, piece by piece, and reports a rate', (t) => {
  const dir = tempDir(t, 'diaspora-crc-bound-');
  const file = path.join(dir, 'data');
  const bytes = Buffer.alloc(3 * 65536 + 12345);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2654435761) >>> 24;
  fs.writeFileSync(file, bytes);
  const r = crc32MappedGBps(file, 65536, 2);
  t.is(r.crc, zlib.crc32(bytes));
  t.true(r.gbps > 0 && Number.isFinite(r.gbps));
  fs.writeFileSync(path.join(dir, 'empty'), '');
  t.throws(() => crc32MappedGBps(path.join(dir, 'empty')), { message: /empty/ });
});
