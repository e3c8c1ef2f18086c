// `diaspora-ctl consumers reset --to ID` with an id below the partition's first stored id (retention removed what
// lay below): the consumer is moved to that first id, as `--to earliest` does, whatever the id (0 and 3 alike).
import path from 'node:path';
import test from 'ava';
import { ctl, jsonLines } from './cli-helper.js';
import { tempDir } from '../../temp-dir.js';

test('consumers reset --to an id below the first id moves the consumer to the first stored id; past the end is refused', async (t) => {
  const D = ['--driver.root_path', path.join(tempDir(t), 'root'), '--driver.segment_bytes', '4096'];
  t.is((await ctl(['topic', 'create', ...D, '--name', 'T', '--topic.retention_bytes', '1'])).code, 0);
  // 300-byte events: 13 to a 4096-byte segment; the trim keeps the last segment only.
  const lines = Array.from({ length: 40 }, (_, i) => JSON.stringify({ metadata: i, data: Buffer.alloc(300, i).toString('base64') }));
  t.is((await ctl(['produce', 'T', ...D, '-q'], lines.join('\n') + '\n')).code, 0);
  t.is((await ctl(['topic', 'trim', 'T', ...D])).code, 0);
  const firstId = jsonLines<{ partitions: Array<{ firstId: number }> }>((await ctl(['topic', 'describe', 'T', ...D, '--json'])).stdout)[0]!.partitions[0]!.firstId;
  t.true(firstId > 3, `first id ${firstId}`);
  for (const to of ['0', '3', 'earliest']) {
    const reset = await ctl(['consumers', 'reset', 'T', 'app', '--to', to, '--create', ...D]);
    t.is(reset.code, 0, reset.stderr);
    const positions = jsonLines<{ partitions: Array<{ lastAcknowledged: number | null }> }>((await ctl(['consumers', 'T', ...D, '--json'])).stdout);
    t.deepEqual(positions[0]!.partitions.map((p) => p.lastAcknowledged), [firstId - 1], `--to ${to}`);
    // Before, --to 3 was stored as given and the consumer then failed: "retention removed the events below ...".
    const consumed = await ctl(['consume', 'T', '--name', 'app', '--max', '1', ...D]);
    t.is(consumed.code, 0, `--to ${to}: ${consumed.stderr}`);
    t.deepEqual(jsonLines<{ metadata: number }>(consumed.stdout).map((e) => e.metadata), [firstId]);
  }
  const past = await ctl(['consumers', 'reset', 'T', 'app', '--to', '41', ...D]);
  t.is(past.code, 1);
  t.regex(past.stderr, /ends at 40.*\[OUT_OF_RANGE\]/);
});
