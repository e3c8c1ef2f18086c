// A named consumer (a real process) SIGKILLed at 50 random moments (while starting, reading or acknowledging)
// while a producer keeps appending, restarted each time under the same name. Each run records what it processed
// and what was acknowledged (fsynced). Over all runs: no gap, and repeats only of events after the last
// acknowledgement recorded before the kill.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { Driver } from '../../../lib/index.js';
import { startChild } from '../child.js';
import { tempRoot } from './torn-tail.js';

const KILLS = 50;

test(`a named consumer SIGKILLed ${KILLS} times at random moments: no gap, repeats only after the last acknowledgement`, async (t) => {
  t.timeout(150_000);
  const root = tempRoot(t, 'diaspora-kill-');
  const d = await Driver.create('files', { root_path: root });
  await d.createTopic('kill', { options: { num_partitions: 2 } });
  const topic = await d.openTopic('kill');
  const producer = topic.producer();
  let produced = 0;
  const produce = async (n: number): Promise<void> => {
    for (let k = 0; k < n; k++, produced++) producer.push({ seq: produced });
    await producer.flush();
  };
  await produce(600);
  const runs: string[][] = [];
  for (let run = 0; run <= KILLS; run++) {
    const log = path.join(root, `run-${run}.log`);
    fs.writeFileSync(log, '');
    const last = run === KILLS;
    const child = startChild('fsync-ack-consumer.js', [root, 'kill', 'victim', log, last ? 'end' : 'live']);
    if (last) {
      await child.waitFor(/^DONE/, 60_000);
      t.is((await child.exited).code, 0, child.stderr());
    } else {
      // Random moments: some kills land during start-up, most while events are read and acknowledged.
      if (run % 5 === 4) await new Promise((r) => setTimeout(r, Math.random() * 200));
      else {
        await child.waitFor(/^READY/, 30_000);
        await new Promise((r) => setTimeout(r, Math.random() * 80));
      }
      await produce(20); // new events keep arriving while the consumer runs
      child.proc.kill('SIGKILL');
      await child.exited;
    }
    runs.push(fs.readFileSync(log, 'utf8').split('\n').filter(Boolean));
  }
  await topic.close();
  await d.close();

  const lastAck = [-1, -1];
  const maxProcessed = [-1, -1];
  let repeats = 0;
  for (const [r, lines] of runs.entries()) {
    const prev = [-2, -2];
    for (const line of lines) {
      const [kind, ps, ids] = line.split(' ');
      const p = Number(ps);
      const id = Number(ids);
      if (kind === 'A') {
        t.true(id <= maxProcessed[p]! || id === prev[p], `run ${r}: acknowledged ${p}/${id} after processing it`);
        lastAck[p] = Math.max(lastAck[p]!, id);
        continue;
      }
      if (prev[p] === -2) {
        // First event of this partition in the run: right after the last recorded acknowledgement, or later when
        // the kill fell between storing an acknowledgement and recording it; never past an unprocessed event.
        if (id <= lastAck[p]!) t.fail(`run ${r}: partition ${p} restarted at ${id}, at or before acknowledged ${lastAck[p]}`);
        if (id > maxProcessed[p]! + 1) t.fail(`run ${r}: partition ${p} skipped ${maxProcessed[p]! + 1}..${id - 1}`);
      } else if (id !== prev[p]! + 1) {
        t.fail(`run ${r}: partition ${p} went from ${prev[p]} to ${id}`);
      }
      if (id <= maxProcessed[p]!) repeats++;
      prev[p] = id;
      maxProcessed[p] = Math.max(maxProcessed[p]!, id);
    }
  }
  t.is(maxProcessed[0]! + maxProcessed[1]! + 2, produced, 'every produced event was processed');
  const busy = runs.slice(0, KILLS).filter((lines) => lines.length > 0).length;
  t.log(`${produced} events, ${KILLS} kills (${busy} while reading), ${repeats} repeats (all after the last recorded acknowledgement)`);
  t.true(busy >= KILLS / 5, `only ${busy} kills landed while events were being read`);
});
