// Recovery reports: what crash recovery found (and usually cut) in a topic's storage, handed to the user instead of
// being dropped silently. Engines that recover nothing (memory, nats: the server keeps its own log) never report.
import type { BackendRecoveryReport } from './backend.js';

/** One finding of crash recovery in one partition, as noticed by this process (fields: see BackendRecoveryReport). */
export interface RecoveryReport extends BackendRecoveryReport {
  topic: string;
  /** When this process noticed it (ms since the epoch). */
  at: number;
}

export type RecoveryListener = (report: RecoveryReport) => void;

/** The reports of one topic handle and its listeners (called synchronously, in registration order). */
export class RecoveryLog {
  private readonly seen: RecoveryReport[] = [];
  private readonly listeners = new Set<RecoveryListener>();

  get reports(): readonly RecoveryReport[] {
    return this.seen;
  }

  add(report: RecoveryReport): void {
    this.seen.push(report);
    for (const cb of [...this.listeners]) {
      try {
        cb(report);
      } catch (err) {
        // A failing listener must not fail the append or read that found the report.
        process.emitWarning(`recovery listener threw: ${(err as Error)?.message ?? String(err)}`, 'DiasporaRecoveryWarning');
      }
    }
  }

  /** Adds `cb`, calling it at once with every report already seen; returns the function that removes it. */
  listen(cb: RecoveryListener): () => void {
    if (typeof cb !== 'function') throw new TypeError('onRecovery needs a function');
    this.listeners.add(cb);
    for (const r of [...this.seen]) {
      if (!this.listeners.has(cb)) break;
      try {
        cb(r);
      } catch (err) {
        process.emitWarning(`recovery listener threw: ${(err as Error)?.message ?? String(err)}`, 'DiasporaRecoveryWarning');
      }
    }
    return () => {
      this.listeners.delete(cb);
    };
  }
}

/** One line describing a report (CLI output and daemon logs). */
export function formatRecovery(r: RecoveryReport): string {
  const ids =
    r.droppedEntries > 0
      ? `${r.droppedEntries} uncommitted entr${r.droppedEntries === 1 ? 'y' : 'ies'} (ids ${r.endId}..${r.endId + r.droppedEntries - 1})`
      : 'no entries';
  return (
    `topic ${r.topic} partition ${r.partition}: recovery ${r.cut ? 'cut' : 'found (left in place)'} ${ids}` +
    ` and ${r.droppedBytes} orphan bytes; end id ${r.endId}: ${r.notes.join('; ')}`
  );
}
