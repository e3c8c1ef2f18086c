// Child process of the partition contract suite: appends `count` events tagged `tag` (metadata {tag, seq}) to
// partition `dir` in the given format, in batches of 1 to 3, then exits 0.
// argv: format dir tag count
import { FORMATS, type FormatName } from '../partition-formats.js';

const [format, dir, tag, countText] = process.argv.slice(2) as [FormatName, string, string, string];
const count = Number(countText);
const log = FORMATS[format].open(dir);
try {
  for (let seq = 0, b = 0; seq < count; b++) {
    const batch = [];
    for (let k = 0; k < 1 + (b % 3) && seq < count; k++, seq++) {
      batch.push({ metadata: Buffer.from(JSON.stringify({ tag, seq })), data: Buffer.from(`${tag}-${seq}`) });
    }
    log.append(batch);
  }
} finally {
  log.close();
}
