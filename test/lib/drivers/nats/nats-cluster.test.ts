// A topic replicated on a three-server cluster survives the loss of a server in the middle of producing and
// consuming: every event acknowledged to the producer is read back intact, ids stay dense, the consumer finishes.
import test from 'ava';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { Driver, StopEventProcessor, type JsonObject } from '../../../../lib/index.js';
import { NatsNames } from '../../../../lib/drivers/nats/nats-names.js';
import { natsServerUnavailable, startNatsCluster } from './nats-server.js';

const unavailable = natsServerUnavailable();
const N = 3000;
const BATCH = 50;

async function streamLeader(urls: string[], stream: string): Promise<string> {
  const nc = await connect({ servers: urls });
  try {
    const jsm = await jetstreamManager(nc);
    for (;;) {
      const leader = (await jsm.streams.info(stream)).cluster?.leader;
      if (leader) return leader;
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await nc.close();
  }
}

(unavailable ? test.skip : test)(
  unavailable ? `nats cluster test skipped: ${unavailable}` : 'nats: a 3-replica topic loses its stream leader (SIGKILL) mid produce/consume and loses nothing acknowledged',
  async (t) => {
    const cluster = await startNatsCluster(3);
    const prefix = `cl${process.pid}`;
    const options: JsonObject = { servers: cluster.urls, replicas: 3, prefix, retry_ms: 30_000, request_timeout_ms: 2_000 };
    let producerDriver: Driver | undefined;
    let consumerDriver: Driver | undefined;
    try {
      producerDriver = await Driver.create('nats', options);
      await producerDriver.createTopic('replicated');
      consumerDriver = await Driver.create('nats', options);
      const topic = await producerDriver.openTopic('replicated');
      const readTopic = await consumerDriver.openTopic('replicated');
      const victim = await streamLeader(cluster.urls, new NatsNames(prefix).stream('replicated', 0));

      // Consumer: runs concurrently, stops once it holds every event stored (known when the producer is done).
      const received = new Map<number, string>();
      let target = Infinity;
      const consumer = await readTopic.consumer('survivor');
      const consuming = consumer.process(
        async (e) => {
          received.set(e.id, `${(e.metadata as JsonObject).i}:${e.data.toBuffer().toString()}`);
          await e.acknowledge();
          if (received.size >= target) throw new StopEventProcessor();
        },
        { timeoutMs: 60_000 },
      );

      // Producer: batches of pushes; a failed push is pushed again (at least once), an acknowledged one is final.
      const producer = topic.producer({ batchSize: BATCH });
      const acked = new Map<number, number>(); // i -> id
      let failures = 0;
      let killed = false;
      let todo = Array.from({ length: N }, (_, i) => i);
      while (todo.length > 0) {
        const batch = todo.splice(0, BATCH);
        const results = await Promise.allSettled(batch.map((i) => producer.push({ i }, Buffer.from(`payload ${i}`)).wait()));
        results.forEach((r, k) => {
          if (r.status === 'fulfilled') acked.set(batch[k], r.value as number);
          else {
            failures++;
            todo.push(batch[k]);
          }
        });
        if (!killed && acked.size >= N / 3) {
          killed = true;
          await cluster.servers.find((s) => s.name === victim)!.kill();
        }
      }
      await producer.flush();
      t.true(killed);
      t.log(`killed stream leader ${victim}; ${failures} pushes failed and were pushed again`);

      const stats = await readTopic.stats();
      const end = stats.partitions[0].endId;
      target = end;
      if (received.size >= target) consumer.close().catch(() => undefined);
      const processed = await consuming;
      t.true(processed >= end, `consumer stopped after ${processed} events (${received.size} distinct) of ${end}; lag ${JSON.stringify(await consumer.lag().catch((e) => String(e)))}`);

      // Dense ids 0..end-1, each acknowledged push at its id with its own payload.
      t.deepEqual([...received.keys()].sort((a, b) => a - b), Array.from({ length: end }, (_, k) => k));
      t.is(acked.size, N);
      for (const [i, id] of acked) t.is(received.get(id), `${i}:payload ${i}`, `event ${i} at id ${id}`);
      await consumer.close();
      const positions = await readTopic.listConsumers();
      t.is(positions.find((p) => p.name === 'survivor')?.partitions[0].lastAcknowledged, end - 1);
    } finally {
      await consumerDriver?.close().catch(() => undefined);
      await producerDriver?.close().catch(() => undefined);
      await cluster.stop();
    }
  },
);
