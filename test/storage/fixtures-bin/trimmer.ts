// Child process for retention tests: trims a native topic.
//   trimmer <root> <topic> <rounds>   runs trimTopic `rounds` times, then sends { type: 'done', removed } (events it
//                                      removed in all) over IPC. DIASPORA_TEST_TRIM_KILL_AFTER_STEP makes it die midway.
import { TopicStore } from '../../../storage/topic-store.js';
import { trimTopic } from '../../../storage/retention/trim-topic.js';

const [root, name, roundsArg] = process.argv.slice(2);
const store = TopicStore.open(root!, name!);
let removed = 0;
for (let r = 0; r < Number(roundsArg ?? 1); r++) {
  for (const p of trimTopic(store)) removed += p.removedEvents;
}
store.close();
process.send!({ type: 'done', removed }, () => process.disconnect());
