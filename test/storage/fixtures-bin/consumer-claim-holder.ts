// Child process for claim tests: claims a partition, reports over IPC, and holds it until told otherwise
// (or until SIGKILLed by the test, which is the point).
// argv: topicDir consumerName partition staleMs standby(0|1)
import { ConsumerClaims } from '../../../storage/consumer-claims.js';

const [topicDir, name, partition, staleMs, standby] = process.argv.slice(2);
const send = (m: unknown) => process.send!(m);

try {
  const claim = await ConsumerClaims.acquire(topicDir!, name!, Number(partition), {
    standby: standby === '1',
    staleMs: Number(staleMs),
    pollMs: 50,
  });
  claim.onLost(() => send({ type: 'lost' }));
  send({ type: 'claimed', pid: process.pid });
  process.on('message', (m: { type: string }) => {
    if (m.type === 'release') {
      claim.release();
      send({ type: 'released' });
    } else if (m.type === 'exit') {
      process.exit(0); // without release(): the claim of a dead holder is taken over at once
    }
  });
} catch (err) {
  send({ type: 'error', code: (err as { code?: string }).code, message: (err as Error).message });
  process.disconnect();
}
