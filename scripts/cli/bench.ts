// `bench producer|consumer [options]`: runs the benchmarks of scripts/bench/ (the reference's options) as a child
// process, passing every option through; `bench producer --help` shows them.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { ErrorCode } from '../../lib/index.js';
import { CliError } from './errors.js';

const SCRIPTS: Record<string, string> = { producer: 'producer.js', consumer: 'consumer.js', all: 'run-all.js' };

function runBench(kind: string, args: string[]): Promise<void> {
  const script = fileURLToPath(new URL(`../bench/${SCRIPTS[kind]}`, import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: 'inherit' });
    const forward = (sig: NodeJS.Signals): void => void child.kill(sig);
    process.on('SIGINT', forward).on('SIGTERM', forward);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      process.off('SIGINT', forward).off('SIGTERM', forward);
      if (code === 0) resolve();
      else reject(new CliError(`bench ${kind} failed (${signal ?? `exit ${code}`})`, ErrorCode.GENERIC, { exitCode: code ?? 1 }));
    });
  });
}

export function benchCommand(): Command {
  const bench = new Command('bench').description('run the producer/consumer benchmarks (scripts/bench), with the reference options');
  for (const [kind, what] of [
    ['producer', 'producer throughput: -d -c -t -n -m -s -b -p -f (see `bench producer --help`)'],
    ['consumer', 'consumer throughput: -d -c -t -n -p -s -i (see `bench consumer --help`)'],
    ['all', 'every benchmark with a raw baseline (scripts/bench/run-all)'],
  ]) {
    bench
      .command(kind)
      .description(what)
      .helpOption(false)
      .allowUnknownOption()
      .argument('[options...]', 'passed to the benchmark')
      .action((args: string[]) => runBench(kind, args));
  }
  return bench;
}
