// Child process for tests: holds the writer lock of a partition folder until its stdin closes.
// argv: partitionDir. Prints "held" once the lock is taken.
import { WriterLock } from '../../../../storage/writer-lock.js';

const lock = new WriterLock(process.argv[2]!);
lock.acquire();
// Keep the lease: a live holder's lock is never taken, however long it is held.
process.stdout.write('held\n');
process.stdin.resume();
process.stdin.on('end', () => {
  lock.release();
  process.exit(0);
});
