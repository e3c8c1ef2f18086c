// Child process: consumes a topic of large events without an allocator (zero copy) and reports its peak resident
// memory and how many distinct ArrayBuffers the delivered slices live in (a copy would give one per event; views of
// the mapped segment files share a few mappings).
import fs from 'node:fs';
import { Driver, type JsonObject } from '../../../lib/index.js';

/** Private (anonymous) resident memory: what copies would inflate. File pages mapped from the page cache are shared
 *  and reclaimable, and are reported apart (RssFile). */
function residentKiB(field: 'RssAnon' | 'RssFile'): number {
  const line = fs.readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith(`${field}:`));
  return line ? Number(line.split(/\s+/)[1]) : NaN;
}

const [root, topicName] = process.argv.slice(2);
const driver = await Driver.create('files', { root_path: root, verify_data: false });
const topic = await driver.openTopic(topicName);
const consumer = await topic.consumer('zero-copy', { until: 'end' });
let events = 0;
let bytes = 0;
let peakAnon = 0;
let peakFile = 0;
let contentOk = 0;
const buffers = new Set<ArrayBufferLike>();
for await (const e of consumer) {
  events++;
  bytes += e.data.size;
  for (const seg of e.data.segments) buffers.add(seg.buffer);
  const seg = e.data.segments[0];
  // Each event's data starts with its index (u32 LE): reading those 4 bytes touches one page only.
  if (Buffer.from(seg.buffer, seg.byteOffset, 4).readUInt32LE(0) === (e.metadata as JsonObject).i) contentOk++;
  peakAnon = Math.max(peakAnon, residentKiB('RssAnon') * 1024);
  peakFile = Math.max(peakFile, residentKiB('RssFile') * 1024);
}
await driver.close();
console.log(JSON.stringify({ events, bytes, peakAnon, peakFile, distinctBuffers: buffers.size, contentOk }));
