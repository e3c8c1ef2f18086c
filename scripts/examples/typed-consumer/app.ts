// A small consumer application written as a user writes one: it imports the package by name and types its
// metadata. Producer<Reading>.push only takes Readings and every Event<Reading> has `metadata.celsius` as a number,
// with no casts (the type is a compile-time promise; a schema validator on the topic would check it at run time).
// test/package/packed-package.test.ts compiles it with strict settings against the packed typings, then runs it.
// Usage: node out/app.js ROOT_PATH   (prints one JSON line: the mean temperature per sensor)
import { DiasporaError, Driver, ErrorCode, type Event } from 'diaspora-stream';

interface Reading {
  sensor: string;
  celsius: number;
  /** Raw samples travel as the event's data; only alarms need them. */
  alarm: boolean;
}

interface Mean {
  count: number;
  total: number;
}

function record(means: Map<string, Mean>, event: Event<Reading>): void {
  const { sensor, celsius } = event.metadata;
  const m = means.get(sensor) ?? { count: 0, total: 0 };
  m.count += 1;
  m.total += celsius;
  means.set(sensor, m);
}

async function main(root: string): Promise<void> {
  const driver = await Driver.create('files', { root_path: root });
  try {
    if (!(await driver.topicExists('readings'))) {
      await driver.createTopic('readings', { options: { num_partitions: 2 } });
    }
    const topic = await driver.openTopic('readings');
    const producer = topic.producer<Reading>({ batchSize: 8 });
    for (let i = 0; i < 12; i++) {
      const samples = Buffer.alloc(16, i);
      void producer.push({ sensor: `s${i % 3}`, celsius: 20 + i, alarm: i % 5 === 0 }, samples);
    }
    await producer.flush();

    // Only alarms get their samples; the selector sees the typed metadata.
    const consumer = await topic.consumer<Reading>('means', {
      until: 'end',
      dataSelector: (metadata, whole) => (metadata.alarm ? whole : null),
    });
    const means = new Map<string, Mean>();
    let samplesRead = 0;
    for await (const event of consumer) {
      record(means, event);
      samplesRead += event.data.size;
      void event.acknowledge();
    }
    await consumer.close();

    // A typo in an option is refused, not ignored.
    try {
      await topic.consumer<Reading>('typo', { untill: 'end' } as never);
    } catch (err) {
      if (!(err instanceof DiasporaError) || err.code !== ErrorCode.BAD_CONFIG) throw err;
    }

    const result: Record<string, number> = {};
    for (const [sensor, m] of [...means].sort()) result[sensor] = m.total / m.count;
    console.log(JSON.stringify({ means: result, samplesRead }));
  } finally {
    await driver.close();
  }
}

const root = process.argv[2];
if (root === undefined) {
  console.error('usage: node out/app.js ROOT_PATH');
  process.exitCode = 2;
} else {
  await main(root);
}
