// Topic and consumer names are arbitrary strings; NATS stream names, subject tokens and KV keys are not.
// Names are encoded into one token of [A-Za-z0-9_-]: letters, digits and "-" stay, every other UTF-8 byte
// becomes "_xx" (two lowercase hex digits). Long names keep a readable head and end with "__" + a hash
// ("__" never appears in a short encoding, so the two forms cannot collide).

import { createHash } from 'node:crypto';

const MAX_TOKEN = 64;

export function encodeNameToken(name: string): string {
  let out = '';
  for (const b of Buffer.from(name, 'utf8')) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9-]/.test(c) ? c : `_${b.toString(16).padStart(2, '0')}`;
  }
  if (out.length <= MAX_TOKEN) return out;
  return `${out.slice(0, 24)}__${createHash('sha256').update(name, 'utf8').digest('hex').slice(0, 32)}`;
}

/**
 * The name a short token encodes (the inverse of encodeNameToken); null for a shortened (hashed) token or one that
 * encodeNameToken cannot have made. Used where only a key is left to name a consumer (a damaged offset).
 */
export function decodeNameToken(token: string): string | null {
  if (token.includes('__') || !/^(?:[A-Za-z0-9-]|_[0-9a-f]{2})+$/.test(token)) return null;
  const bytes = Buffer.from(token.replace(/_([0-9a-f]{2})|./g, (m, hex: string | undefined) => (hex ? String.fromCharCode(parseInt(hex, 16)) : m)), 'latin1');
  try {
    const name = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return encodeNameToken(name) === token ? name : null;
  } catch {
    return null;
  }
}

/** Names of the engine objects of one driver prefix. */
export class NatsNames {
  constructor(readonly prefix: string) {}

  get topicsBucket(): string {
    return `${this.prefix}_topics`;
  }
  get offsetsBucket(): string {
    return `${this.prefix}_offsets`;
  }
  get claimsBucket(): string {
    return `${this.prefix}_claims`;
  }
  /** Key of a topic in the topics bucket; also the topic's token in every other name. */
  topicKey(topic: string): string {
    return encodeNameToken(topic);
  }
  stream(topic: string, partition: number): string {
    return `${this.prefix}_${this.topicKey(topic)}_${partition}`;
  }
  subject(topic: string, partition: number): string {
    return `${this.prefix}.${this.topicKey(topic)}.${partition}`;
  }
  /** Key of a consumer's partition in the offsets and claims buckets. */
  consumerKey(topic: string, consumer: string, partition: number): string {
    return `${this.topicKey(topic)}.${encodeNameToken(consumer)}.${partition}`;
  }
  /** Key of a consumer's unfinished multi-partition reset in the offsets bucket (nats-reset.ts). */
  resetKey(topic: string, consumer: string): string {
    return `${this.topicKey(topic)}.${encodeNameToken(consumer)}.reset`;
  }
  /** Filter matching every consumer key of a topic. */
  consumerKeysOf(topic: string): string {
    return `${this.topicKey(topic)}.>`;
  }
}
