// Child process: creates topic `name` with `partitions` partitions in `root` (native or reference format), prints
// CREATED when done. Killed by the test at a random moment of the creation.
// argv: root name partitions format
import { createTopicStore } from '../../../storage/open-topic.js';

const [root, name, partitions, format] = process.argv.slice(2);
console.log('STARTING');
createTopicStore(root!, name!, format as 'native' | 'reference', { numPartitions: Number(partitions) }).close();
console.log('CREATED');
