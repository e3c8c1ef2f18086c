// A topic's retention policy as the engine stores it (in topic.json, `retention`): when sealed segments of a
// partition may be removed. Checked here once, for creation, for a later change and when read back from disk.
import { StorageError } from '../types.js';
import { encodeConsumerName } from '../consumer-name.js';

export interface RetentionPolicy {
  /** Segments whose newest event is at least this old (ms) are removed. */
  maxAgeMs?: number;
  /** Oldest segments are removed while a partition holds more than this many bytes (its three files per segment). */
  maxBytes?: number;
  /**
   * Segments are kept until these named consumers acknowledged all their events ('*': every consumer known to the
   * topic). Alone (no age or size limit) it removes each segment once they all acknowledged it.
   */
  keepUntilAckedBy?: readonly string[] | '*';
}

export const RETENTION_POLICY_KEYS = ['maxAgeMs', 'maxBytes', 'keepUntilAckedBy'] as const;

/** How errors name each key (their message and `details.key`): the API spells them retention_ms, ... */
export type RetentionKeyNames = { readonly [K in (typeof RETENTION_POLICY_KEYS)[number]]: string };
const ENGINE_KEY_NAMES: RetentionKeyNames = { maxAgeMs: 'retention maxAgeMs', maxBytes: 'retention maxBytes', keepUntilAckedBy: 'retention keepUntilAckedBy' };

/** The smallest segment size limit a size policy sets (a smaller one would mostly create and remove files). */
export const MIN_RETENTION_ROLL_BYTES = 1024 * 1024;

/**
 * The segment size limit a policy asks for: a quarter of `maxBytes` (at least MIN_RETENTION_ROLL_BYTES), so that size
 * retention removes about a quarter of its limit at a time whatever `segment_bytes` is (1 GiB by default), instead of
 * keeping up to a whole segment more than the limit. Infinity without a size limit. Writers roll at the smaller of
 * this and `segment_bytes`.
 */
export function retentionRollBytes(policy: RetentionPolicy | null): number {
  if (policy?.maxBytes === undefined) return Infinity;
  return Math.max(MIN_RETENTION_ROLL_BYTES, Math.floor(policy.maxBytes / 4));
}

/** A value of the wrong type: a TypeError that says which key (the API turns it into BAD_CONFIG with `details.key`). */
export class RetentionTypeError extends TypeError {
  constructor(message: string, readonly key: string) {
    super(message);
  }
}

function checkPositive(what: string, v: unknown): number {
  if (typeof v !== 'number') throw new RetentionTypeError(`${what} must be a number, got ${v === null ? 'null' : typeof v}`, what);
  if (!Number.isSafeInteger(v) || v < 1) throw new StorageError('BAD_CONFIG', `${what} must be a positive integer, got ${v}`, { key: what });
  return v;
}

/**
 * Checks a policy (TypeError for wrong types, BAD_CONFIG for bad values and unknown keys) and returns it normalised:
 * only the keys that are set; an empty policy is `null` (keep everything).
 */
export function checkRetentionPolicy(raw: unknown, names: RetentionKeyNames = ENGINE_KEY_NAMES): RetentionPolicy | null {
  if (raw === null || raw === undefined) return null;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new TypeError('retention policy must be an object');
  for (const key of Object.keys(raw)) {
    if (!(RETENTION_POLICY_KEYS as readonly string[]).includes(key)) {
      throw new StorageError('BAD_CONFIG', `unknown retention key ${JSON.stringify(key)} (valid: ${RETENTION_POLICY_KEYS.join(', ')})`, { key });
    }
  }
  const r = raw as Record<string, unknown>;
  const out: RetentionPolicy = {};
  if (r.maxAgeMs !== undefined) out.maxAgeMs = checkPositive(names.maxAgeMs, r.maxAgeMs);
  if (r.maxBytes !== undefined) out.maxBytes = checkPositive(names.maxBytes, r.maxBytes);
  const key = names.keepUntilAckedBy;
  const acked = r.keepUntilAckedBy;
  if (acked !== undefined) {
    if (acked === '*') out.keepUntilAckedBy = '*';
    else if (typeof acked === 'string') {
      throw new StorageError('BAD_CONFIG', `${key} must be '*' or a list of consumer names, got ${JSON.stringify(acked)}`, { key });
    } else if (!Array.isArray(acked)) {
      throw new RetentionTypeError(`${key} must be '*' or an array of consumer names`, key);
    } else {
      for (const name of acked) {
        try {
          encodeConsumerName(name);
        } catch (cause) {
          if (cause instanceof TypeError) throw new RetentionTypeError(`${key}: ${cause.message}`, key);
          if (!(cause instanceof StorageError)) throw cause;
          throw new StorageError('BAD_CONFIG', `${key}: ${cause.message}`, { key, cause });
        }
      }
      if (acked.length === 0) throw new StorageError('BAD_CONFIG', `${key} must name at least one consumer`, { key });
      out.keepUntilAckedBy = [...new Set(acked as string[])];
    }
  }
  return Object.keys(out).length === 0 ? null : out;
}
