// A run of records held as an array: what consumers read by position from engines that answer readRange() with
// records (memory, nats, plugin drivers; events handed back by a given-up pull). The files engine answers
// readRun() itself, without a record object per event.

import type { BackendRecord, BackendRun } from './backend.js';
import { allEventData } from './data/selection.js';
import { strictUtf8 } from './json.js';

export class RecordArrayRun implements BackendRun {
  constructor(private readonly records: readonly BackendRecord[]) {}

  get length(): number {
    return this.records.length;
  }

  id(k: number): number {
    return this.records[k]!.id;
  }

  timestamp(k: number): number {
    return this.records[k]!.timestamp;
  }

  dataSize(k: number): number {
    return this.records[k]!.dataSize;
  }

  metadataUtf8(k: number): string {
    const rec = this.records[k]!;
    return rec.metadataUtf8 !== undefined ? rec.metadataUtf8() : strictUtf8.decode(rec.metadata);
  }

  metadataBytes(k: number): Uint8Array {
    return this.records[k]!.metadata;
  }

  /** The whole data, checked as a consumer without selector checks any engine's (size, type). */
  data(k: number): Uint8Array {
    return allEventData(this.records[k]!);
  }

  record(k: number): BackendRecord {
    return this.records[k]!;
  }
}

/** The run of a partition that has read nothing yet. */
export const NO_RECORDS: BackendRun = new RecordArrayRun([]);
