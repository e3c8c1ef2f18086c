// The forward daemon's source trims: a topic without a retention policy is never trimmed (a trim takes every
// partition's writer lock, which its producers would then wait for); one with a policy is.
import test from 'ava';
import type { TopicHandle } from '../../../lib/index.js';
import { startSourceTrims } from '../../../scripts/cli/forward-daemon.js';
import { Logger } from '../../../scripts/cli/logger.js';

interface FakeTopic {
  handle: TopicHandle;
  retentionCalls: number;
  trimCalls: number;
}

function fakeTopic(name: string, policy: Record<string, unknown>, onTrim: (calls: number) => void = () => {}): FakeTopic {
  const f: FakeTopic = { retentionCalls: 0, trimCalls: 0, handle: undefined as never };
  f.handle = {
    name,
    retention: async () => {
      f.retentionCalls++;
      return policy;
    },
    trim: async () => {
      onTrim(++f.trimCalls);
      return [];
    },
  } as unknown as TopicHandle;
  return f;
}

test('source trims skip topics without a retention policy, and trim those with one', async (t) => {
  const plain = fakeTopic('plain', {});
  let trimmedThrice!: () => void;
  const done = new Promise<void>((r) => (trimmedThrice = r));
  const kept = fakeTopic('kept', { retention_bytes: 10 }, (n) => n === 3 && trimmedThrice());
  // The plain topic comes first in every round: by the third trim of the other one it was looked at three times.
  const trims = startSourceTrims([Promise.resolve(plain.handle), Promise.resolve(kept.handle)], 1, new Logger('error'));
  t.teardown(() => trims.stop());
  // The daemon's timer does not keep a process alive (unref): this one does, until the trims were seen.
  const keepAlive = setInterval(() => {}, 1000);
  await done.finally(() => clearInterval(keepAlive));
  t.true(plain.retentionCalls >= 3);
  t.is(plain.trimCalls, 0);
});
