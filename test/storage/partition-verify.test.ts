import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { PartitionLog } from '../../storage/partition-log.js';
import { verifyPartition } from '../../storage/partition-verify.js';
import { bytesMappedSoFar } from '../../storage/map-file.js';
import { listSegmentBases, segmentPaths } from '../../storage/segment-files.js';
import { exitOf, forkBin, metaOf, nextMessage, payload, verifyWhile } from './helpers.js';
import { tempDir } from '../temp-dir.js';

test('verify maps each segment file at its size: no growth headroom per file (it made 12k segments take 26 s)', (t) => {
  const dir = tempDir(t);
  const log = PartitionLog.open(dir, 0, { segmentBytes: 4096 });
  for (let i = 0; i < 400; i++) log.append([{ metadata: metaOf(0, i), data: payload(0, i, 900) }]);
  log.close();
  const segments = listSegmentBases(dir).length;
  t.true(segments >= 80, `the log rolled over many segments (${segments})`);
  let fileBytes = 0;
  for (const f of fs.readdirSync(dir)) if (/\.(meta|data)$/.test(f)) fileBytes += fs.statSync(path.join(dir, f)).size;

  const before = bytesMappedSoFar();
  t.deepEqual(verifyPartition(dir), []);
  const mapped = bytesMappedSoFar() - before;
  // Every .meta and .data file is mapped once, rounded up to a page at most (a 64 MiB headroom each before).
  t.true(mapped >= fileBytes, `mapped ${mapped} bytes for ${fileBytes} bytes of files`);
  t.true(mapped <= fileBytes + 2 * segments * 65536, `mapped ${mapped} bytes for ${fileBytes} bytes of files`);
});

test('verify still reports damage in a segment that is not the last', (t) => {
  const dir = tempDir(t);
  const log = PartitionLog.open(dir, 0, { segmentBytes: 4096 });
  for (let i = 0; i < 40; i++) log.append([{ metadata: metaOf(0, i), data: payload(0, i, 900) }]);
  log.close();
  const second = listSegmentBases(dir)[1]!;
  const dataFile = segmentPaths(dir, second).data;
  const fd = fs.openSync(dataFile, 'r+');
  fs.writeSync(fd, Buffer.from([0xff ^ fs.readFileSync(dataFile)[10]!]), 0, 1, 10);
  fs.closeSync(fd);
  const problems = verifyPartition(dir);
  t.is(problems.length, 1);
  t.is(problems[0]!.file, dataFile);
  t.regex(problems[0]!.message, /data fails its checksum/);
});

// No lock is taken by verify: what a writer in another process does meanwhile (creating a segment, appending entries
// after their metadata and data) is no damage. Before, a check could list a new segment's metadata and data files
// just before its index was created and call the index missing, or measure a file before entries pointing past that
// size were appended ("metadata range ends at 72, past the end of the file (60)").
test('verify while another process appends and rolls small segments: no problem reported', async (t) => {
  const dir = path.join(tempDir(t, 'diaspora-verify-live-'), 'p0');
  fs.mkdirSync(dir);
  PartitionLog.open(dir, 0, { segmentBytes: 4096 }).close();
  const child = forkBin(t, 'append-worker', [dir, '0', '40000', '4096']);
  const { passes, seen } = await verifyWhile(dir, nextMessage<{ type: string }>(child, (m) => m.type === 'done'));
  await exitOf(child);
  t.true(passes > 5, `${passes} passes`);
  t.deepEqual(seen, [], `${passes} passes`);
  t.deepEqual(verifyPartition(dir), []);
});
