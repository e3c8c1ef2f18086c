// Child process: runs a named consumer's life with all but `spare` file descriptors taken (opened on /dev/null),
// for spare = 0..maxSpare, then gives them back and checks what was left behind. `phase` open: descriptors are taken
// before the driver opens; read: after the consumer opened, before it reads, acknowledges and closes; write: a
// producer's life instead (pushes nobody awaits, flush, close), descriptors taken once the topic is open. Prints one
// JSON line per spare count: the errors met ({ code, message }), whether the consumer's claims are free again (a
// consumer of the same name opens at once) and how many descriptors were left open. First, one line "map": what a
// segment mapping reports when its file cannot be opened for want of a descriptor.
// argv: root topic consumerName maxSpare phase
import fs from 'node:fs';
import path from 'node:path';
import { DiasporaError, Driver } from '../../../lib/index.js';
import { MappedFile } from '../../../storage/segment-reader.js';

const [root, topicName, name, maxSpareArg, phase] = process.argv.slice(2);
const maxSpare = Number(maxSpareArg);
const fdCount = (): number => fs.readdirSync('/proc/self/fd').length;

/** Opens /dev/null until EMFILE, then closes `spare` of them again; returns the ones kept. */
function hogAllBut(spare: number): number[] {
  const fds: number[] = [];
  for (;;) {
    try {
      fds.push(fs.openSync('/dev/null', 'r'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EMFILE') throw err;
      for (let k = 0; k < spare && fds.length > 0; k++) fs.closeSync(fds.pop()!);
      return fds;
    }
  }
}
const release = (fds: number[]): void => fds.forEach((fd) => fs.closeSync(fd));
const describe = (err: unknown): { code: string; message: string } => ({
  code: err instanceof DiasporaError || (err as { name?: string })?.name === 'StorageError' ? (err as { code: string }).code : `not typed: ${String((err as Error)?.name)}`,
  message: String((err as Error)?.message ?? err),
});

{
  const file = path.join(root, 'mapped-file');
  fs.writeFileSync(file, Buffer.alloc(4096, 1));
  const mf = new MappedFile(file);
  const hog = hogAllBut(0);
  let error: { code: string; message: string } | null = null;
  try {
    mf.cover(100);
  } catch (err) {
    error = describe(err);
  }
  release(hog);
  mf.close();
  console.log(JSON.stringify({ map: true, error }));
}

for (let spare = 0; spare <= maxSpare; spare++) {
  const before = fdCount();
  const errors: Array<{ code: string; message: string }> = [];
  let hog: number[] = phase === 'open' ? hogAllBut(spare) : [];
  try {
    const d = await Driver.create('files', { root_path: root });
    try {
      const topic = await d.openTopic(topicName);
      if (phase === 'write') {
        hog = hogAllBut(spare);
        const producer = topic.producer();
        for (let i = 0; i < 30; i++) void producer.push({ i }, Buffer.alloc(100, i)).catch(() => undefined);
        for (const step of [() => producer.flush(), () => producer.close()]) {
          try {
            await step();
          } catch (err) {
            errors.push(describe(err));
          }
        }
        release(hog);
        hog = [];
      }
      const consumer = await topic.consumer(name, { until: 'end' });
      if (phase === 'read') hog = hogAllBut(spare);
      try {
        await consumer.process((e) => void e.acknowledge());
      } catch (err) {
        errors.push(describe(err));
      }
      try {
        await consumer.close();
      } catch (err) {
        errors.push(describe(err));
      }
    } finally {
      await d.close();
    }
  } catch (err) {
    errors.push(describe(err));
  }
  release(hog);
  hog = [];
  // A claim that could not be released at once is given back in the background: allow it a moment.
  let claimsFree = false;
  for (let tries = 0; tries < 50 && !claimsFree; tries++) {
    const d = await Driver.create('files', { root_path: root });
    try {
      const c = await (await d.openTopic(topicName)).consumer(name);
      await c.close();
      claimsFree = true;
    } catch (err) {
      if ((err as DiasporaError).code !== 'CONSUMER_BUSY') errors.push(describe(err));
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      await d.close();
    }
  }
  const leaked = fdCount() - before;
  console.log(JSON.stringify({ spare, errors, claimsFree, leaked }));
}
