// What every part of the nats driver shares: the connection, the JetStream clients, options and names.

import type { NatsConnection } from '@nats-io/nats-core';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { NatsDriverOptions } from './nats-options.js';
import type { NatsNames } from './nats-names.js';

export interface NatsContext {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly options: NatsDriverOptions;
  readonly names: NatsNames;
  /** Largest message the servers accept (bytes). */
  readonly maxPayload: number;
}
