// Retention as the API spells it (snake_case topic options, beside num_partitions) and its conversion to the
// engine's policy (storage/retention/retention-policy.ts), checked the same way as the other strict options.
import { checkRetentionPolicy, RetentionTypeError, type RetentionPolicy } from '../storage/retention/retention-policy.js';
import { DiasporaError, ErrorCode, toDiasporaError } from './errors.js';
import type { JsonObject } from './json.js';
import { checkOptionKeys } from './option-keys.js';

export type { RetentionPolicy };
export type { PartitionTrimResult } from '../storage/retention/trim-topic.js';

/** A topic's retention (all absent: events are kept forever). Deletion is by whole sealed segments. */
export interface TopicRetention {
  /** Remove segments whose newest event is at least this many ms old. */
  retention_ms?: number;
  /** Per partition: remove the oldest segments while the partition holds more than this many bytes. */
  retention_bytes?: number;
  /** Keep segments until these named consumers ('*': every consumer known to the topic) acknowledged them. */
  retention_acked_by?: string[] | '*';
}

export const RETENTION_OPTION_KEYS = ['retention_ms', 'retention_bytes', 'retention_acked_by'] as const;

/** Errors name the option the caller gave, not the engine's key. */
const OPTION_NAMES = { maxAgeMs: 'retention_ms', maxBytes: 'retention_bytes', keepUntilAckedBy: 'retention_acked_by' } as const;

/** The engine's policy for the retention keys of `options` (other keys ignored); null when none is set. BAD_CONFIG. */
export function retentionPolicyOf(options: JsonObject | TopicRetention): RetentionPolicy | null {
  const o = options as Record<string, unknown>;
  const raw: Record<string, unknown> = {};
  if (o.retention_ms !== undefined) raw.maxAgeMs = o.retention_ms;
  if (o.retention_bytes !== undefined) raw.maxBytes = o.retention_bytes;
  if (o.retention_acked_by !== undefined) raw.keepUntilAckedBy = o.retention_acked_by;
  if (Array.isArray(o.retention_acked_by) && o.retention_acked_by.includes('*')) {
    // ['*'] reads like "every consumer" but would name a consumer called '*' that never acknowledges: nothing would
    // ever be trimmed. Refused when a policy is set (a stored one keeps its meaning).
    throw new DiasporaError(
      ErrorCode.BAD_CONFIG,
      `retention_acked_by lists '*': give '*' alone (not in a list) to wait for every consumer the topic knows; a list names consumers`,
      { key: 'retention_acked_by' },
    );
  }
  try {
    return checkRetentionPolicy(raw, OPTION_NAMES);
  } catch (err) {
    // Topic options are configuration (often read from a file or a command line): a value of the wrong type is
    // BAD_CONFIG too, as for num_partitions (docs/api.md, "How options are checked").
    if (err instanceof RetentionTypeError) throw new DiasporaError(ErrorCode.BAD_CONFIG, err.message, { key: err.key, cause: err });
    if (err instanceof TypeError) throw new DiasporaError(ErrorCode.BAD_CONFIG, err.message, { cause: err });
    throw toDiasporaError(err);
  }
}

/** Checks a whole retention object (unknown keys are BAD_CONFIG) and converts it. */
export function checkTopicRetention(retention: unknown): RetentionPolicy | null {
  checkOptionKeys(retention, RETENTION_OPTION_KEYS, 'retention');
  return retentionPolicyOf(retention as TopicRetention);
}

/** The API spelling of an engine policy. */
export function topicRetentionOf(policy: RetentionPolicy | null): TopicRetention {
  const out: TopicRetention = {};
  if (policy?.maxAgeMs !== undefined) out.retention_ms = policy.maxAgeMs;
  if (policy?.maxBytes !== undefined) out.retention_bytes = policy.maxBytes;
  if (policy?.keepUntilAckedBy !== undefined) out.retention_acked_by = policy.keepUntilAckedBy === '*' ? '*' : [...policy.keepUntilAckedBy];
  return out;
}
