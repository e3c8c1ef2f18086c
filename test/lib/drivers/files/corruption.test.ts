// A damaged event in the middle of a partition: the consumer reports it (CORRUPTION naming file and offset) and
// delivers every other event, before and after it; a flipped data byte is caught by the data checksum.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { DiasporaError, Driver, ErrorCode, type JsonObject } from '../../../../lib/index.js';
import { tempDir } from '../../../temp-dir.js';

async function seeded(t: { teardown(fn: () => void): void }): Promise<{ root: string; partitionDir: string }> {
  const root = tempDir(t, 'diaspora-corrupt-');
  const d = await Driver.create('files', { root_path: root });
  await d.createTopic('t');
  const p = (await d.openTopic('t')).producer();
  for (let i = 0; i < 100; i++) p.push({ i }, Buffer.from(`data-of-${String(i).padStart(3, '0')}`));
  await p.flush();
  await d.close();
  return { root, partitionDir: path.join(root, 't', 'partitions', '00000000') };
}

function flipIn(file: string, needle: string): number {
  const bytes = fs.readFileSync(file);
  const at = bytes.indexOf(needle);
  if (at < 0) throw new Error(`${needle} not in ${file}`);
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, Buffer.from([bytes[at + needle.length - 2] ^ 0x01]), 0, 1, at + needle.length - 2);
  fs.closeSync(fd);
  return at;
}

/** Reads the whole topic, collecting the ids delivered (checking their bytes) and the errors reported. */
async function readAll(root: string): Promise<{ ids: number[]; errors: DiasporaError[] }> {
  const d = await Driver.create('files', { root_path: root });
  const c = await (await d.openTopic('t')).consumer('reader', { until: 'end' });
  const ids: number[] = [];
  const errors: DiasporaError[] = [];
  for (;;) {
    try {
      const e = await c.pull();
      if (e === null) break;
      if ((e.metadata as JsonObject).i !== e.id || e.data.toBuffer().toString() !== `data-of-${String(e.id).padStart(3, '0')}`) {
        throw new Error(`wrong bytes delivered for event ${e.id}`);
      }
      ids.push(e.id);
    } catch (err) {
      if (!(err instanceof DiasporaError)) throw err;
      errors.push(err);
    }
  }
  await d.close();
  return { ids, errors };
}

/** Damages the event whose bytes contain `needle` in the segment file ending in `suffix`, then reads everything. */
async function readDamaged(t: { teardown(fn: () => void): void }, suffix: string, needle: string) {
  const { root, partitionDir } = await seeded(t);
  const file = fs.readdirSync(partitionDir).find((f) => f.endsWith(suffix))!;
  flipIn(path.join(partitionDir, file), needle);
  return readAll(root);
}

const allBut = (skip: number): number[] => Array.from({ length: 100 }, (_, i) => i).filter((i) => i !== skip);

test('a flipped metadata byte: that event is a CORRUPTION error naming file and offset, all others are delivered', async (t) => {
  const { ids, errors } = await readDamaged(t, '.meta', '{"i":37}');
  t.is(errors.length, 1);
  t.is(errors[0].code, ErrorCode.CORRUPTION);
  t.regex(errors[0].message, /\.meta/);
  t.deepEqual(ids, allBut(37));
});

test('a flipped data byte is caught by the data checksum (verify_data, the default) and only that event fails', async (t) => {
  const { ids, errors } = await readDamaged(t, '.data', 'data-of-064');
  t.is(errors.length, 1);
  t.is(errors[0].code, ErrorCode.CORRUPTION);
  t.deepEqual(ids, allBut(64));
});
