// Child process for the claim takeover test: opens a named consumer on a nats topic (claiming its partitions),
// prints READY, then idles until killed. argv: servers prefix topic consumerName claimTtlMs
import { Driver } from '../../../../../lib/index.js';

const [servers, prefix, topicName, name, ttl] = process.argv.slice(2);
const driver = await Driver.create('nats', { servers, prefix, claim_ttl_ms: Number(ttl) });
const topic = await driver.openTopic(topicName);
await topic.consumer(name);
console.log('READY');
setInterval(() => {}, 1000);
