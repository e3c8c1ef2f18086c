// Child process: keeps one producer of an existing topic open and pushes an event every `pauseMs` (0: back to
// back, awaiting only every 64th push), printing `OK <id>` for each committed push, until a push is refused: then
// prints `REFUSED <code>` and exits. argv: root topic pauseMs segmentBytes
import { Driver, DiasporaError } from '../../../lib/index.js';

const [root, topicName, pauseText, segmentText] = process.argv.slice(2);
const pauseMs = Number(pauseText);
const driver = await Driver.create('files', { root_path: root, segment_bytes: Number(segmentText) });
const topic = await driver.openTopic(topicName);
const producer = topic.producer({ name: `child-${process.pid}` });
const data = Buffer.alloc(200, 0x63);
try {
  for (let seq = 0; ; seq++) {
    const pushed = producer.push({ from: 'child', seq }, data);
    if (pauseMs > 0 || seq % 64 === 0) console.log(`OK ${await pushed}`);
    if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
  }
} catch (err) {
  // Written before exiting (process.exit does not wait for a pipe to take the line).
  await new Promise((resolve) => process.stdout.write(`REFUSED ${err instanceof DiasporaError ? err.code : String(err)}\n`, resolve));
}
process.exit(0);
