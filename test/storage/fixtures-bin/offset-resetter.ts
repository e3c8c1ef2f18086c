// Child process for reset crash tests: one ConsumerOffsets.resetMany, then exit 0. Run with the RESET_KILL_ENV
// hook set, it SIGKILLs itself at that step of the reset. argv: topicDir consumerName movesJson ([[p, lastAcked], ...])
import { ConsumerOffsets } from '../../../storage/consumer-offsets.js';

const [topicDir, name, moves] = process.argv.slice(2);
ConsumerOffsets.resetMany(topicDir!, name!, JSON.parse(moves!) as Array<[number, number | null]>);
