// Turns the engine's recovery state (a report object that each recovery replaces, merging in what it found) into
// one BackendRecoveryReport per new finding, so that the topic handle hears of each cut exactly once.

import type { BackendRecoveryReport } from '../../backend.js';
import type { PartitionLogLike, RecoveryReport } from '../../../storage/types.js';

/** The engine's report; the reference-format log adds whether the tail was cut or only set aside. */
type EngineReport = RecoveryReport & { truncated?: boolean };

export class RecoveryTracker {
  private last: EngineReport | null = null;

  constructor(
    private readonly log: PartitionLogLike,
    private readonly emit: (report: BackendRecoveryReport) => void,
  ) {}

  /**
   * Reports what changed since the last call. `endId`: the committed end when the recovery ran, when the caller
   * knows it better than the log does now (after an append, the first id it assigned).
   */
  check(endId?: number): void {
    const now = ((this.log as { recovery?: EngineReport | null }).recovery ?? null) as EngineReport | null;
    if (now === this.last) return;
    const prev = this.last;
    this.last = now;
    if (now === null) return;
    const cut = now.truncated ?? true;
    let notes = now.notes;
    let entries = now.droppedEntries;
    let bytes = now.droppedBytes;
    const prevCut = prev === null ? undefined : (prev.truncated ?? true);
    if (prev !== null && prevCut === cut && notes.length >= prev.notes.length && prev.notes.every((n, i) => notes[i] === n)) {
      // Merged report: only the part after what was already told is new.
      notes = notes.slice(prev.notes.length);
      entries -= prev.droppedEntries;
      bytes -= prev.droppedBytes;
      if (notes.length === 0 && entries === 0 && bytes === 0) return;
    }
    this.emit({
      partition: this.log.index,
      endId: endId ?? this.log.endId,
      droppedEntries: entries,
      droppedBytes: bytes,
      cut,
      notes: [...notes],
    });
  }
}
