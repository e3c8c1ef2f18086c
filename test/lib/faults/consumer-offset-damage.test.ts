// A named consumer whose offset file is damaged fails with CORRUPTION naming the file instead of starting again from
// the first event (which delivered everything a second time), whatever the damage: garbage, a bad checksum, a file cut
// short or emptied, a file of zeros. listConsumers (what `topic describe` shows) reports that position as damaged,
// naming the file, and the other consumers and partitions as they are. A reset (the API or `diaspora-ctl consumers
// reset`) rewrites it.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { DiasporaError, Driver, ErrorCode, type TopicHandle } from '../../../lib/index.js';
import { encodeOffsetSlot, OFFSET_FILE_BYTES, OFFSET_SLOT_BYTES } from '../../../storage/consumer-offsets.js';
import { drain, makeTopic, tempRoot } from './torn-tail.js';

const damages: Array<[string, (file: string) => void]> = [
  ['garbage over slot 0, slot 1 zeros', (f) => {
    const b = Buffer.alloc(OFFSET_FILE_BYTES);
    b.fill(0xab, 0, OFFSET_SLOT_BYTES);
    fs.writeFileSync(f, b);
  }],
  ['a bad checksum in slot 0, slot 1 zeros', (f) => {
    const b = Buffer.alloc(OFFSET_FILE_BYTES);
    encodeOffsetSlot(7, 5, b, 0);
    b[20]! ^= 0x10;
    fs.writeFileSync(f, b);
  }],
  ['emptied (0 bytes)', (f) => fs.truncateSync(f, 0)],
  ['cut to 10 bytes', (f) => fs.truncateSync(f, 10)],
  ['all garbage', (f) => fs.writeFileSync(f, Buffer.alloc(OFFSET_FILE_BYTES, 0x5a))],
  // Its size kept, its bytes zeros (as some file systems leave a file after a crash): not "position 0".
  ['zeroed (64 bytes of zeros)', (f) => fs.writeFileSync(f, Buffer.alloc(OFFSET_FILE_BYTES))],
];

for (const [what, damage] of damages) {
  test(`offset file ${what}: the consumer fails with CORRUPTION naming the file, never replays; listed as damaged; a reset repairs it`, async (t) => {
    const root = tempRoot(t);
    await makeTopic(root, 'orders', 10, { partitions: 2 });
    const d = await Driver.create('files', { root_path: root });
    try {
      const topic = await d.openTopic('orders');
      t.is((await drain(topic, 'app')).length, 20);
      await topic.resetConsumer('other', 2);
      const file = path.join(root, 'orders', 'consumers', 'app', '00000000.offset');
      damage(file);
      const err = await t.throwsAsync(topic.consumer('app', { until: 'end' }), { instanceOf: DiasporaError });
      t.is((err as DiasporaError).code, ErrorCode.CORRUPTION);
      t.is((err as DiasporaError).details.file, file);
      t.regex(err!.message, /resetConsumer|consumers reset/);
      // Before, this failed with the same CORRUPTION, and so did describe: the topic could not be looked at.
      t.deepEqual(await topic.listConsumers(), [
        {
          name: 'app',
          partitions: [
            { partition: 0, lastAcknowledged: null, damaged: { code: 'CORRUPTION', file, message: err!.message } },
            { partition: 1, lastAcknowledged: 9 },
          ],
        },
        { name: 'other', partitions: [{ partition: 0, lastAcknowledged: 1 }, { partition: 1, lastAcknowledged: 1 }] },
      ]);
      // Not CONSUMER_BUSY: the failed open gave its claims back. The way out: a reset rewrites the file.
      await topic.resetConsumer('app', 7, [0]);
      t.deepEqual(await drain(topic, 'app'), [7, 8, 9]);
      t.deepEqual((await topic.listConsumers())[0]!.partitions, [{ partition: 0, lastAcknowledged: 9 }, { partition: 1, lastAcknowledged: 9 }]);
      await topic.close();
    } finally {
      await d.close();
    }
  });
}
