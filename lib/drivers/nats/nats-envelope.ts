// One event is one JetStream message. Its payload is a small envelope:
//   u8 version (1) | u32le events remaining in the producer's batch after this one | u32le metadata length
//   | metadata bytes | data bytes
// so the data part is the tail of the payload (a zero-copy subarray when read). "remaining" lets a writer that
// lost a race see whether the stream ends inside another writer's batch (it then waits for that batch's end).

import { DiasporaError, ErrorCode } from '../../errors.js';

export const ENVELOPE_VERSION = 1;
export const ENVELOPE_HEADER = 9;

export function encodeEnvelope(metadata: Uint8Array, data: readonly Uint8Array[], remaining: number): Uint8Array {
  let dataSize = 0;
  for (const d of data) dataSize += d.byteLength;
  const out = Buffer.allocUnsafe(ENVELOPE_HEADER + metadata.byteLength + dataSize);
  out[0] = ENVELOPE_VERSION;
  out.writeUInt32LE(remaining, 1);
  out.writeUInt32LE(metadata.byteLength, 5);
  out.set(metadata, ENVELOPE_HEADER);
  let pos = ENVELOPE_HEADER + metadata.byteLength;
  for (const d of data) {
    out.set(d, pos);
    pos += d.byteLength;
  }
  return out;
}

export interface DecodedEnvelope {
  remaining: number;
  metadata: Uint8Array;
  data: Uint8Array;
}

export function decodeEnvelope(payload: Uint8Array, where: string): DecodedEnvelope {
  const bad = (why: string): never => {
    throw new DiasporaError(ErrorCode.CORRUPTION, `${where}: not a diaspora event (${why})`);
  };
  if (payload.byteLength < ENVELOPE_HEADER) bad(`${payload.byteLength} bytes`);
  if (payload[0] !== ENVELOPE_VERSION) bad(`unknown envelope version ${payload[0]}`);
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const remaining = view.getUint32(1, true);
  const mlen = view.getUint32(5, true);
  if (ENVELOPE_HEADER + mlen > payload.byteLength) bad(`metadata length ${mlen} beyond the payload`);
  return {
    remaining,
    metadata: payload.subarray(ENVELOPE_HEADER, ENVELOPE_HEADER + mlen),
    data: payload.subarray(ENVELOPE_HEADER + mlen),
  };
}
