// Child process for the SIGBUS test: a consumer holding a batch of events while another process truncates the
// segment files under it. A touch past the end of a file would kill this process with SIGBUS; every access must
// instead throw a typed error. Reports each access's outcome over IPC.
//   truncated-reader <root> <topic> <verifyData: 0|1>      (a native or a reference-format topic, partition 0)
// Messages: {type:'held', end} after reading and touching event 0; on 'go': {type:'outcomes', outcomes:[...]}.
import { openTopicStore } from '../../../storage/open-topic.js';
import { StorageError } from '../../../storage/types.js';

const [root, name, verifyArg] = process.argv.slice(2);
const topic = openTopicStore(root!, name!, { verifyData: verifyArg === '1' });
const log = topic.partition(0);

interface Outcome {
  what: string;
  code: string | null;
  file?: unknown;
  offset?: unknown;
  value?: number;
}

/** Runs one access: its result's first byte, or the error code it threw (anything but StorageError re-thrown). */
function attempt(what: string, fn: () => Uint8Array): Outcome {
  try {
    const bytes = fn();
    let sum = 0;
    for (let i = 0; i < bytes.length; i += 4096) sum += bytes[i]!; // touch every page
    return { what, code: null, value: sum };
  } catch (err) {
    if (!(err instanceof StorageError)) throw err;
    return { what, code: err.code, file: err.details.file, offset: err.details.offset };
  }
}

const batch = log.readRange(0, 8);
const first = attempt('event 0 data', () => batch[0]!.data());
process.send!({ type: 'held', end: log.endId, first });

process.on('message', (m: { type: string }) => {
  if (m.type !== 'go') return;
  const outcomes: Outcome[] = [
    // Events of the batch read before the truncation (a consumer delivering its buffer one event at a time).
    attempt('held event 1 data', () => batch[1]!.data()),
    attempt('held event 2 dataSlice', () => batch[2]!.dataSlice?.(4096, 8192) ?? batch[2]!.data()),
    attempt('held event 3 dataUnverified', () => batch[3]!.dataUnverified?.() ?? batch[3]!.data()),
    attempt('held event 4 metadata', () => batch[4]!.metadata),
    // The text of the metadata, decoded straight from the mapping (native records; others decode a view).
    attempt('held event 7 metadata text', () => Buffer.from(batch[7]!.metadataUtf8?.() ?? new TextDecoder().decode(batch[7]!.metadata))),
    // A new read after the truncation.
    attempt('readRange(5) data', () => log.readRange(5, 3)[0]!.data()),
    attempt('read(6) data', () => log.read(6).data()),
  ];
  process.send!({ type: 'outcomes', outcomes }, () => {
    topic.close();
    process.exit(0);
  });
});
