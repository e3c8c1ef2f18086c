// The events of the user-path benchmark: rebuilt from (workload, i) alone in every process, so a consumer checks what
// it receives byte for byte without the producer sending anything but the events themselves.
// Metadata is 128 bytes of ASCII JSON text (a user holding JSON text); data a window of a deterministic random pool.

export interface Workload {
  readonly name: string;
  readonly events: number;
  readonly dataSize: number;
}

export const WORKLOADS: Record<string, Workload> = {
  a: { name: 'a', events: 200_000, dataSize: 0 },
  b: { name: 'b', events: 100_000, dataSize: 1024 },
  c: { name: 'c', events: 2_000, dataSize: 1 << 20 },
};

export const METADATA_SIZE = 128;
/** Events per batch, per acknowledgement and per read everywhere. */
export const BATCH = 128;
/** (d): data only for events with energy above this, and only its first SELECT_BYTES bytes. */
export const SELECT_ENERGY_ABOVE = 49;
export const SELECT_BYTES = 256;

export const energyOf = (i: number): number => (Math.imul(i, 0x9e3779b1) >>> 0) % 100;

/** JSON text of event i's metadata: exactly METADATA_SIZE bytes. */
export function metaText(i: number): string {
  const head = `{"i":${i},"energy":${energyOf(i)},"source":"sensor-${i % 97}","unit":"kWh","pad":"`;
  return head + 'x'.repeat(METADATA_SIZE - 2 - head.length) + '"}';
}

/** Data of event i: a dataSize window of a fixed pseudo-random pool at an offset depending on i (null when none). */
export function dataSource(dataSize: number): (i: number) => Buffer | null {
  if (dataSize === 0) return () => null;
  const size = Math.max(4 << 20, 8 * dataSize);
  const pool = Buffer.alloc(size);
  const words = new Uint32Array(pool.buffer, pool.byteOffset, size >>> 2);
  let x = 0x2545f491;
  for (let k = 0; k < words.length; k++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[k] = x >>> 0;
  }
  const span = size - dataSize + 1;
  return (i) => {
    const off = (Math.imul(i ^ 0x5bd1e995, 0x9e3779b1) >>> 0) % span;
    return pool.subarray(off, off + dataSize);
  };
}

/**
 * Checks one delivered event against what event `i` must be: metadata text (or bytes) and data, byte for byte.
 * `selected` means a (d) consumer: data only when energy > SELECT_ENERGY_ABOVE, and only its first bytes.
 * Returns the data bytes delivered; throws on the first difference.
 */
export function makeChecker(dataOf: (i: number) => Buffer | null, selected: boolean) {
  const scratch = Buffer.alloc(METADATA_SIZE * 2);
  return (i: number, meta: string | Uint8Array, data: Uint8Array | null): number => {
    const expected = metaText(i);
    if (typeof meta === 'string') {
      if (meta !== expected) throw new Error(`event ${i}: metadata differs: ${meta.slice(0, 40)}`);
    } else {
      const n = scratch.write(expected, 0, 'latin1');
      if (meta.length !== n || scratch.compare(meta, 0, meta.length, 0, n) !== 0) throw new Error(`event ${i}: metadata bytes differ`);
    }
    let want = dataOf(i);
    if (selected) want = want && energyOf(i) > SELECT_ENERGY_ABOVE ? want.subarray(0, SELECT_BYTES) : null;
    const got = data && data.length > 0 ? data : null;
    if (want === null) {
      if (got !== null) throw new Error(`event ${i}: ${got.length} unexpected data bytes`);
      return 0;
    }
    if (got === null || !want.equals(got)) throw new Error(`event ${i}: data differs`);
    return got.length;
  };
}
