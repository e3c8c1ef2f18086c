// Writes fixtures/native/: small topics in this version's on-disk format plus manifest.json describing every
// event, so test/fixtures/fixtures.test.ts can check that later versions still read old data.
// Run: npm run build && node dist/scripts/tools/make-fixtures.js [outDir]   (default: fixtures/native)
// It refuses to overwrite an existing fixture folder: committed fixtures are never regenerated in place.

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Driver, type JsonValue } from '../../lib/index.js';

/** Byte j of event k (the same rule as the reference fixture). */
export function fixtureData(k: number, size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let j = 0; j < size; j++) b[j] = (k * 31 + j * 7) % 256;
  return b;
}

interface TopicPlan {
  name: string;
  partitions: number;
  events: Array<{ metadata: JsonValue; dataSize: number; partition?: number }>;
  /** Consumers to leave behind: name -> number of events (in delivery order) to acknowledge. */
  consumers: Record<string, number>;
}

function metadataOf(k: number): JsonValue {
  switch (k % 6) {
    case 0:
      return { k, energy: (k * 37) % 100, detector: `d${k % 3}` };
    case 1:
      return `string-event-${k}`;
    case 2:
      return { k, nested: { list: [1, 2.5, 'x', null, true], empty: {} }, unicode: 'héllo ✓ 日本' };
    case 3:
      return k * 1.5;
    case 4:
      return [k, `quote " and backslash \\`, false];
    default:
      return { k, big: 2 ** 52 + k, negative: -k, escaped: 'line\nbreak\ttab' };
  }
}

const PLANS: TopicPlan[] = [
  {
    // Three partitions, several segments per partition (segment_bytes 4096), data from 0 to 3000 bytes, some explicit partitions.
    name: 'events',
    partitions: 3,
    events: Array.from({ length: 36 }, (_, k) => ({ metadata: metadataOf(k), dataSize: (k * 397) % 3001, partition: k % 7 === 6 ? 2 : undefined })),
    consumers: { 'fixture-reader': 10 },
  },
  {
    name: 'metadata-only',
    partitions: 1,
    events: Array.from({ length: 8 }, (_, k) => ({ metadata: metadataOf(k), dataSize: 0 })),
    consumers: {},
  },
  { name: 'empty', partitions: 2, events: [], consumers: {} },
];

/** Git does not store empty folders, and an empty partition is an empty folder: mark them with .gitkeep. */
function keepEmptyFolders(dir: string): void {
  const entries = fs.readdirSync(dir, { withFileTypes: true });
  if (entries.length === 0) fs.writeFileSync(path.join(dir, '.gitkeep'), '');
  for (const e of entries) if (e.isDirectory()) keepEmptyFolders(path.join(dir, e.name));
}

export async function makeFixtures(outDir: string): Promise<void> {
  if (fs.existsSync(outDir)) throw new Error(`${outDir} exists; remove it first if you really mean to regenerate the fixtures`);
  const root = path.join(outDir, 'root');
  fs.mkdirSync(root, { recursive: true });
  const driver = await Driver.create('files', { root_path: root, segment_bytes: 4096, flush_behavior: 'on_flush' });
  const manifest: Record<string, unknown> = {};
  for (const plan of PLANS) {
    await driver.createTopic(plan.name, { options: { num_partitions: plan.partitions } });
    const topic = await driver.openTopic(plan.name);
    const producer = topic.producer({ batchSize: 4 });
    for (let k = 0; k < plan.events.length; k++) {
      const e = plan.events[k];
      // A JS string is JSON text for push(): quote string metadata.
      const md = typeof e.metadata === 'string' ? JSON.stringify(e.metadata) : e.metadata;
      void producer.push(md, e.dataSize > 0 ? fixtureData(k, e.dataSize) : undefined, e.partition);
    }
    await producer.flush();
    // Read everything back: the manifest records what the engine stored (ids, partitions, timestamps).
    const events: unknown[] = [];
    const reader = await topic.consumer('manifest-writer', { durable: false, until: 'end' });
    for await (const ev of reader) {
      const data = Buffer.concat(ev.data.segments.map((s) => Buffer.from(s)));
      events.push({
        partition: ev.partition,
        id: ev.id,
        timestamp: ev.timestamp,
        metadata: ev.metadata,
        dataSize: data.length,
        dataSha256: crypto.createHash('sha256').update(data).digest('hex'),
      });
    }
    await reader.close();
    events.sort((a, b) => {
      const x = a as { partition: number; id: number };
      const y = b as { partition: number; id: number };
      return x.partition - y.partition || x.id - y.id;
    });
    for (const [name, count] of Object.entries(plan.consumers)) {
      const c = await topic.consumer(name, { until: 'end' });
      let n = 0;
      for await (const ev of c) {
        await ev.acknowledge();
        if (++n >= count) break;
      }
      await c.close();
    }
    const stats = await topic.stats();
    manifest[plan.name] = {
      partitions: plan.partitions,
      stats: stats.partitions.map((p) => ({ partition: p.partition, firstId: p.firstId, endId: p.endId, events: p.events, segments: p.segments })),
      consumers: (await topic.listConsumers()).sort((a, b) => (a.name < b.name ? -1 : 1)),
      events,
    };
    await topic.close();
  }
  await driver.close();
  keepEmptyFolders(root);
  const doc = {
    description: 'Topics written by diaspora-stream (native files format) with scripts/tools/make-fixtures.ts; see test/fixtures/fixtures.test.ts',
    version: (JSON.parse(fs.readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version,
    driverOptions: { segment_bytes: 4096 },
    dataRule: 'byte j of the event pushed k-th in its topic is (k*31 + j*7) % 256',
    topics: manifest,
  };
  fs.writeFileSync(path.join(outDir, 'manifest.json'), JSON.stringify(doc, null, 2) + '\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const out = process.argv[2] ?? path.join(process.cwd(), 'fixtures', 'native');
  await makeFixtures(out);
  console.log(`fixtures written to ${out}`);
}
