// Options of the nats driver. Unknown keys are an error (a typo would otherwise silently change durability).

import { DiasporaError, ErrorCode } from '../../errors.js';
import type { JsonObject } from '../../json.js';

export interface NatsDriverOptions {
  servers: string[];
  /** Copies of every stream and bucket (1 = no replication; a cluster needs >= 3 to survive a lost server). */
  replicas: number;
  /** Names every stream (`<prefix>_...`), subject (`<prefix>....`) and bucket of this driver. */
  prefix: string;
  /** A claim not renewed for this long belongs to a dead consumer and may be taken over. */
  claimTtlMs: number;
  /** How long a request keeps being retried through transient failures (leader elections, lost server). */
  retryMs: number;
  /** Server-side de-duplication window of the streams (must exceed retryMs). */
  duplicateWindowMs: number;
  /** Timeout of one request to the server. */
  requestTimeoutMs: number;
  user: string | undefined;
  pass: string | undefined;
  token: string | undefined;
}

export const NATS_DRIVER_KEYS = [
  'servers',
  'replicas',
  'prefix',
  'claim_ttl_ms',
  'retry_ms',
  'duplicate_window_ms',
  'request_timeout_ms',
  'user',
  'pass',
  'token',
] as const;

function bad(message: string): DiasporaError {
  return new DiasporaError(ErrorCode.BAD_CONFIG, message);
}

function int(o: JsonObject, key: string, dflt: number, min: number, max: number): number {
  const v = o[key] ?? dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw bad(`Invalid ${key}: expected an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function optString(o: JsonObject, key: string): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw bad(`Invalid ${key}: expected a string`);
  return v;
}

export function readNatsDriverOptions(o: JsonObject): NatsDriverOptions {
  for (const k of Object.keys(o)) {
    if (!(NATS_DRIVER_KEYS as readonly string[]).includes(k)) {
      throw bad(`Unknown nats driver option "${k}" (valid: ${NATS_DRIVER_KEYS.join(', ')})`);
    }
  }
  const raw = o.servers ?? 'nats://127.0.0.1:4222';
  const servers = typeof raw === 'string' ? raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0) : raw;
  if (!Array.isArray(servers) || servers.length === 0 || !servers.every((s) => typeof s === 'string' && s.length > 0)) {
    throw bad('Invalid servers: expected a server URL, a comma-separated list of URLs or an array of URLs');
  }
  const prefix = o.prefix ?? 'diaspora';
  // No "_" or ".": the prefix is the first token of stream, bucket and subject names and must stay unambiguous.
  if (typeof prefix !== 'string' || !/^[A-Za-z0-9-]{1,32}$/.test(prefix)) {
    throw bad(`Invalid prefix: expected 1 to 32 letters, digits or "-", got ${JSON.stringify(prefix)}`);
  }
  const retryMs = int(o, 'retry_ms', 15_000, 0, 600_000);
  const duplicateWindowMs = int(o, 'duplicate_window_ms', Math.max(30_000, retryMs * 2), 1_000, 3_600_000);
  if (duplicateWindowMs <= retryMs) throw bad('Invalid duplicate_window_ms: must exceed retry_ms (retried publishes are de-duplicated in it)');
  return {
    servers: servers as string[],
    replicas: int(o, 'replicas', 1, 1, 5),
    prefix,
    claimTtlMs: int(o, 'claim_ttl_ms', 5_000, 1_000, 3_600_000),
    retryMs,
    duplicateWindowMs,
    requestTimeoutMs: int(o, 'request_timeout_ms', 5_000, 100, 600_000),
    user: optString(o, 'user'),
    pass: optString(o, 'pass'),
    token: optString(o, 'token'),
  };
}
