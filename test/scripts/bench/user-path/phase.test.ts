// A phase of the user-path benchmark checks what it reads: every event's metadata and data against the generator,
// through processBatches, with (d)'s selector; a store with one event damaged makes the consume phase fail.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../../../temp-dir.js';

const PHASE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../scripts/bench/user-path/phase.js');

function phase(job: object): { events?: number; error?: string } {
  const r = spawnSync(process.execPath, [PHASE, JSON.stringify(job)], { encoding: 'utf8' });
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`no RESULT line: ${r.stdout}${r.stderr}`);
  return JSON.parse(line.slice(7)) as { events?: number; error?: string };
}

test('workload b (quick): produce, consume every event and (d) selected data, all checked', (t) => {
  const dir = tempDir(t, 'diaspora-user-path-');
  const base = { engine: 'diaspora', workload: 'b', dir, quick: true };
  const produced = phase({ ...base, role: 'produce' });
  t.is(produced.error, undefined);
  const consumed = phase({ ...base, role: 'consume' });
  t.is(consumed.error, undefined);
  t.is(consumed.events, produced.events);
  const selected = phase({ ...base, role: 'select' });
  t.is(selected.error, undefined);
  t.is(selected.events, produced.events);
});

test('a damaged event in the store fails the consume phase instead of being counted', (t) => {
  const dir = tempDir(t, 'diaspora-user-path-');
  const base = { engine: 'diaspora', workload: 'a', dir, quick: true };
  t.is(phase({ ...base, role: 'produce' }).error, undefined);
  // Change one digit of one event's "i" in the .meta file and fix nothing else: its metadata CRC then fails, which
  // the consumer reports (CORRUPTION) and the phase turns into an error.
  const partition = path.join(dir, 'bench', 'partitions', '00000000');
  const meta = path.join(partition, fs.readdirSync(partition).find((f) => f.endsWith('.meta'))!);
  const bytes = fs.readFileSync(meta);
  const at = bytes.indexOf('{"i":1000,');
  t.true(at >= 0);
  bytes[at + 5] = '7'.charCodeAt(0);
  fs.writeFileSync(meta, bytes);
  const consumed = phase({ ...base, role: 'consume' });
  t.truthy(consumed.error);
});
