// `verify [T...]`: checks every segment, index entry and checksum; prints each problem with its file and offset
// and exits with EXIT_DAMAGED when anything is wrong. What crash recovery cut on the way (a torn tail of uncommitted
// entries, when opening a partition whose writer died) is printed too but is not damage.

import { Command } from 'commander';
import { DiasporaError, ErrorCode, formatRecovery, type RecoveryReport } from '../../lib/index.js';
import { Progress } from '../lib/progress.js';
import { addDriverOptions, withDriver, withTopic, type DriverFlags } from './driver-options.js';
import { CliError, EXIT_DAMAGED } from './errors.js';
import { writeOut } from './output.js';

/** A problem of a partition (with its file and offset when known), or of a topic that could not be opened. */
interface Problem {
  topic: string;
  partition?: number;
  file?: string;
  offset?: number;
  id?: number;
  message: string;
}

/**
 * A CORRUPTION met opening a topic (topic.json damaged) or a partition (its folder gone) as a problem: damage to report
 * like the rest, not an error that stops the check of the other topics and partitions.
 */
function damage(err: unknown, topic: string, partition?: number): Problem {
  if (!(err instanceof DiasporaError) || err.code !== ErrorCode.CORRUPTION) throw err;
  const { file, offset } = err.details;
  return { topic, partition, file: typeof file === 'string' ? file : undefined, offset: typeof offset === 'number' ? offset : undefined, message: err.message };
}

function problemLine(p: Problem): string {
  const where = p.partition === undefined ? p.topic : `${p.topic} partition ${p.partition}`;
  // The engine's messages often name the file already: say where only when the message does not.
  const file = p.file !== undefined && !p.message.includes(p.file) ? `${p.file} at offset ${p.offset ?? 0}${p.id !== undefined ? ` (event ${p.id})` : ''}: ` : '';
  return `${where}: ${file}${p.message}`;
}

async function verify(topics: string[], flags: DriverFlags & { json?: boolean }): Promise<void> {
  const problems: Problem[] = [];
  const recovered: RecoveryReport[] = [];
  let checked = 0;
  await withDriver(flags, async (driver) => {
    const names = topics.length > 0 ? topics : [...(await driver.listTopics()).keys()].sort();
    for (const name of names) {
      try {
        await withTopic(driver, name, async (topic) => {
          const n = topic.partitions.length;
          const progress = new Progress(`verify ${name}`, n);
          try {
            for (let p = 0; p < n; p++) {
              try {
                const backend = topic.backend.partition(p);
                if (!backend.verify) throw new CliError(`topic "${name}": driver "${flags.driver}" cannot verify its storage`, ErrorCode.UNSUPPORTED);
                await backend.refresh();
                for (const problem of await backend.verify()) problems.push({ topic: name, partition: p, ...problem });
              } catch (err) {
                problems.push(damage(err, name, p));
              }
              progress.tick();
            }
          } finally {
            progress.stop();
          }
          recovered.push(...topic.recovery);
        });
      } catch (err) {
        problems.push(damage(err, name));
      }
      checked++;
    }
  });
  let out = '';
  for (const r of recovered) out += flags.json ? JSON.stringify({ topic: r.topic, partition: r.partition, recovery: r }) + '\n' : formatRecovery(r) + '\n';
  for (const p of problems) out += (flags.json ? JSON.stringify(p) : problemLine(p)) + '\n';
  if (out) await writeOut(out);
  if (problems.length > 0) throw new CliError(`${problems.length} problem(s) found in ${checked} topic(s)`, ErrorCode.CORRUPTION, { exitCode: EXIT_DAMAGED });
  process.stderr.write(`${checked} topic(s) verified, no problems\n`);
}

export function verifyCommand(): Command {
  return addDriverOptions(
    new Command('verify')
      .description(`check every segment, index entry and checksum (exit ${EXIT_DAMAGED} with the file and offset of any damage)`)
      .argument('[topics...]', 'topics to check (default: all)')
      .option('--json', 'problems as JSON lines')).action((topics: string[], flags: DriverFlags & { json?: boolean }) => verify(topics, flags));
}
