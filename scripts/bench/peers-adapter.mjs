// diaspora-stream (TypeScript Diaspora Stream API), `files` driver: an append-only log per partition (segment files
// + index) read through memory mappings, zero-copy; named consumers acknowledge durably.
//
// This is the peer benchmark's adapter as a user of this version of the library writes it (the copy shipped in
// the peer harness predates the text metadata paths). Differences from that copy:
//   produce  push(metaText, data): unchanged, but the library now stores the text as given after a one-pass syntax
//            check (no JSON.parse + JSON.stringify) because the topic uses the default validator / serializer /
//            partition selector.
//   consume  consumer.processBatches(): a batch of consecutive events at a time (the read-ahead, up to batchSize),
//            read by position without an Event object per event; one acknowledgement per batch. The sink gets
//            batch.metadataText(i) (the stored text, decoded, never parsed) instead of JSON.stringify(e.metadata);
//            DIASPORA_STREAM_META=bytes hands it batch.metadataBytes(i) (a zero-copy view of the mapping) instead.
//            (d): the selector receives the metadata as a field-reading proxy (parsed only if needed).
//   The raw-bytes serializer trick of the old copy (DIASPORA_STREAM_META=raw) is gone: the library does it itself.
//
// WHERE THE LIBRARY COMES FROM: the built ESM output of a checkout of diaspora-stream (`npm ci` builds dist/).
//   DIASPORA_STREAM_DIR=/path/to/diaspora-stream   (the checkout's root, the folder holding package.json)
//   default: ../../../../../main relative to this file (i.e. <peers>/../../../main), resolved against this file.
// The entry point is taken from the package's "exports" ('.' -> ./dist/lib/index.js).
//
// How it is driven (the README's throughput settings; library defaults otherwise):
//   driver   Driver.create('files', { root_path: ctx.dir }): flush_behavior "buffered" (no fsync, like the plain file
//            rows), verify_data true (data CRC-32 checked on receipt), segment_bytes 1 GiB.
//   topic    created on first open by whichever phase opens first (live: the consumer), 1 partition, default
//            validator / serializer / partition selector.
//   produce  topic.producer({ batchSize: 128, ordering: Strict }): push(metaText, data) per event; a batch of 128 is
//            written inside the 128th push; the future of each batch's last push is awaited (= that batch
//            committed); flush() at the end.
//   consume  await topic.consumer(name, { batchSize: 128, until: live ? undefined : 'end' }) then
//            consumer.processBatches(fn, { maxEvents: count }). No allocator: zero-copy slices of the mapped segment.
//            (d): dataSelector returns d.makeSubView(0, maxBytes) when when(metadata), else null.
//            Acknowledge: batch.acknowledge() at the end of each batch (batches hold at most 128 events, so at
//            least every 128 events, and on the last one); the last ack's future is awaited (offsets file written)
//            and the consumer closed inside consume().
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const LIB_DIR = path.resolve(HERE, process.env.DIASPORA_STREAM_DIR || '../../../../../main');
const PKG = JSON.parse(fs.readFileSync(path.join(LIB_DIR, 'package.json'), 'utf8'));
const entry = (() => {
  const e = PKG.exports && PKG.exports['.'];
  const rel = typeof e === 'string' ? e : (e && (e.import || e.default)) || PKG.main;
  return path.join(LIB_DIR, rel);
})();
const lib = await import(pathToFileURL(entry).href);
const { Driver, Ordering, DiasporaError } = lib;

export function makeAdapter({ name = 'diaspora-stream', title = 'diaspora-stream (files)', metaBytes = process.env.DIASPORA_STREAM_META === 'bytes' } = {}) {
  return {
    name,
    title,
    rank: 35,
    partialData: true,
    notes: `metadata pushed as text; consumed with processBatches, handed back as ${metaBytes ? 'metadataBytes (zero-copy)' : 'metadataText'} (never parsed); (d): selected events still have their whole data CRC-32 checked (verify_data default)`,
    async versions() {
      let commit = '';
      try {
        const head = fs.readFileSync(path.join(LIB_DIR, '.git', 'HEAD'), 'utf8').trim();
        commit = head.startsWith('ref:') ? fs.readFileSync(path.join(LIB_DIR, '.git', head.slice(5)), 'utf8').trim() : head;
      } catch {}
      return {
        server: 'none (in-process), files driver',
        client: `diaspora-stream ${PKG.version}${commit ? ` (${commit.slice(0, 7)})` : ''}, Node ${process.version}`,
      };
    },

    async open(ctx) {
      const driver = await Driver.create('files', { root_path: ctx.dir });
      try {
        await driver.createTopic(ctx.topic, { options: { num_partitions: 1 } });
      } catch (e) {
        if (!(e instanceof DiasporaError && e.code === 'TOPIC_EXISTS')) throw e;
      }
      const topic = await driver.openTopic(ctx.topic);

      return {
        async produce(batches) {
          const producer = topic.producer({ name: 'bench', batchSize: 128, ordering: Ordering.Strict });
          let last;
          for (const batch of batches) {
            const n = batch.length;
            for (let k = 0; k < n; k++) {
              const ev = batch[k];
              last = producer.push(ev.meta, ev.data && ev.data.length ? ev.data : undefined);
            }
            if (n === 128) await last; // written inside the 128th push: committed now
          }
          await producer.flush();
          if (last) await last;
          await producer.close();
        },

        async consume(sel, sink) {
          const sd = sel.data;
          const select = sd.mode === 'select';
          const when = select ? sd.when : null;
          const maxBytes = select ? sd.maxBytes : 0;
          const options = { batchSize: sel.batchSize };
          if (!sel.live) options.until = 'end';
          if (select) {
            options.dataSelector = (md, d) => (when(md) ? d.makeSubView(0, maxBytes) : null);
          }
          const consumer = await topic.consumer(sel.consumer, options);
          const count = sel.count;
          let lastAck;
          // One batch: consecutive events of the partition, at most batchSize (128) of them, answered by position.
          const onBatch = (b) => {
            const n = b.length;
            for (let i = 0; i < n; i++) {
              const data = b.dataBytes(i);
              sink(metaBytes ? b.metadataBytes(i) : b.metadataText(i), data.length === 0 ? null : data);
            }
            lastAck = b.acknowledge(); // through the batch's last event: every 128 events, and the last one
          };
          try {
            const n = await consumer.processBatches(onBatch, { maxEvents: count });
            if (n !== count) throw new Error(`log ended after ${n} of ${count} events`);
            if (lastAck) await lastAck; // the position of the last event is written
          } finally {
            await consumer.close();
          }
        },

        async close() {
          await driver.close();
        },
      };
    },
  };
}

export default makeAdapter();
