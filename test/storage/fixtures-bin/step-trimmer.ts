// Child process for retention tests: trims a native topic one segment at a time, without appending.
//   step-trimmer <root> <topic> <steps> <events per segment>   the policy waits for consumer "a": at each step "a"
//   acknowledges one more segment and the topic is trimmed; then { type: 'done', firstId } goes over IPC.
import { TopicStore } from '../../../storage/topic-store.js';
import { ConsumerOffsets } from '../../../storage/consumer-offsets.js';
import { trimTopic } from '../../../storage/retention/trim-topic.js';

const [root, name, stepsArg, perSegmentArg] = process.argv.slice(2);
const store = TopicStore.open(root!, name!);
const offsets = ConsumerOffsets.open(store.dir, 'a', { flushBehavior: 'buffered' });
const perSegment = Number(perSegmentArg);
let firstId = 0;
for (let k = 1; k <= Number(stepsArg); k++) {
  offsets.store(0, k * perSegment - 1);
  firstId = trimTopic(store)[0]!.firstId;
}
offsets.close();
store.close();
process.send!({ type: 'done', firstId }, () => process.disconnect());
