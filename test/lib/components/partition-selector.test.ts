import test from 'ava';
import { DiasporaError, ErrorCode } from '../../../lib/errors.js';
import type { JsonValue } from '../../../lib/json.js';
import { partitionSelectorFromMetadata } from '../../../lib/components/registry.js';
import { DefaultPartitionSelector } from '../../../lib/components/partition-selector.js';

// Items 111-112 of the reference's Python tests.

test('default selector from no config or type "default"', async (t) => {
  for (const config of [undefined, {}, { type: 'default' }] as Array<JsonValue | undefined>) {
    const p = await partitionSelectorFromMetadata(config);
    t.true(p instanceof DefaultPartitionSelector);
    t.deepEqual(p.metadata(), { type: 'default' });
  }
});

test('unknown selector type is UNKNOWN_COMPONENT', async (t) => {
  const err = await t.throwsAsync(partitionSelectorFromMetadata({ type: 'unknown' }), { instanceOf: DiasporaError });
  t.is(err?.code, ErrorCode.UNKNOWN_COMPONENT);
  t.regex(err?.message ?? '', /PartitionSelector/);
});

test('round robin starts at 0 and wraps', (t) => {
  const p = new DefaultPartitionSelector();
  p.setPartitions([{}, {}, {}]);
  t.deepEqual(Array.from({ length: 7 }, () => p.selectPartitionFor({})), [0, 1, 2, 0, 1, 2, 0]);
});

test('a requested partition is taken modulo N and does not move the round robin', (t) => {
  const p = new DefaultPartitionSelector();
  p.setPartitions([{}, {}]);
  t.is(p.selectPartitionFor({}), 0);
  t.is(p.selectPartitionFor({}, 5), 1); // S3: partition 5 of 2 is partition 1
  t.is(p.selectPartitionFor({}, 0), 0);
  t.is(p.selectPartitionFor({}, 2 ** 40 + 1), 1);
  t.is(p.selectPartitionFor({}), 1);
  t.is(p.selectPartitionFor({}), 0);
});

test('setPartitions restarts the round robin; each instance has its own counter', (t) => {
  const a = new DefaultPartitionSelector();
  const b = new DefaultPartitionSelector();
  a.setPartitions([{}, {}, {}]);
  b.setPartitions([{}, {}, {}]);
  t.is(a.selectPartitionFor({}), 0);
  t.is(a.selectPartitionFor({}), 1);
  t.is(b.selectPartitionFor({}), 0);
  a.setPartitions([{}, {}]);
  t.is(a.selectPartitionFor({}), 0);
  t.is(a.selectPartitionFor({}), 1);
  t.is(a.selectPartitionFor({}), 0);
});

test('no partitions is a GENERIC error with the reference message', (t) => {
  const p = new DefaultPartitionSelector();
  for (const requested of [undefined, 3]) {
    const err = t.throws(() => p.selectPartitionFor({}, requested), { instanceOf: DiasporaError });
    t.is(err?.code, ErrorCode.GENERIC);
    t.is(err?.message, 'PartitionSelector has no target to select from');
  }
  p.setPartitions([]);
  t.throws(() => p.selectPartitionFor({}), { message: 'PartitionSelector has no target to select from' });
});

test('wrong argument types are TypeErrors', (t) => {
  const p = new DefaultPartitionSelector();
  p.setPartitions([{}]);
  for (const bad of [-1, 1.5, NaN, Infinity, '1', null, 2 ** 60]) {
    t.throws(() => p.selectPartitionFor({}, bad as unknown as number), { instanceOf: TypeError });
  }
  t.throws(() => p.setPartitions(3 as unknown as []), { instanceOf: TypeError });
});
