// Child process for the crash test: acknowledges ids start, start+stride, ... as fast as it can and reports each
// stored id over IPC after `store` returned, until SIGKILLed at a random instant by the test.
// argv: topicDir consumerName partition flushBehavior start stride
import { ConsumerOffsets } from '../../../storage/consumer-offsets.js';
import type { FlushBehavior } from '../../../storage/types.js';

const [topicDir, name, partition, flush, start, stride] = process.argv.slice(2);
const offsets = ConsumerOffsets.open(topicDir!, name!, { flushBehavior: flush as FlushBehavior });
const p = Number(partition);
let next = Number(start);
const step = Number(stride);
offsets.load(p);
process.send!({ type: 'ready' });

function burst(): void {
  for (let i = 0; i < 200; i++) {
    offsets.store(p, next);
    process.send!({ type: 'stored', id: next });
    next += step;
  }
  setImmediate(burst); // lets the IPC messages out
}
burst();
