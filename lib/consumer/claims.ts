// Taking a consumer's partitions: every claim at once (all or nothing), or in standby (each partition starts
// flowing when its claim is obtained); and noticing a claim taken away (the partition stops at once).

import type { TopicBackend } from '../backend.js';
import { DiasporaError, ErrorCode } from '../errors.js';
import { engineCall, engineError } from './backend-calls.js';
import { deactivate, type PartitionState } from './partition-reader.js';

export interface ClaimEvents {
  readonly consumerName: string;
  /** close() began: a claim obtained now is given back. */
  readonly ending: boolean;
  /** Positions a claimed partition (delivery starts). */
  activate(st: PartitionState): Promise<void>;
  /** A claim was obtained or lost: waiting deliveries look again. */
  wake(): void;
  /** A claim failed or was lost: the next delivery reports it. */
  fail(err: unknown): void;
}

/** All or nothing: a busy partition fails the creation and gives back what was taken. */
export async function claimAll(backend: TopicBackend, parts: readonly PartitionState[], c: ClaimEvents): Promise<void> {
  try {
    for (const st of parts) {
      st.claim = await engineCall(() => backend.claim(c.consumerName, st.index, { standby: false }));
      watchLoss(st, c);
    }
    await Promise.all(parts.map((st) => c.activate(st)));
  } catch (err) {
    // Every claim taken is given back, even when one release fails (a claim that cannot be released now, for want
    // of a descriptor say, is released by its engine later); the failure reported is the one that stopped the start.
    for (const st of parts) {
      const claim = st.claim;
      st.claim = undefined;
      if (!claim) continue;
      try {
        await claim.release();
      } catch {
        // reported by the engine's own retry, if ever; the start's failure matters more
      }
    }
    throw engineError(err);
  }
}

/** Standby: each partition is claimed as soon as its current holder goes; errors reach the next delivery. */
export function claimInStandby(backend: TopicBackend, parts: readonly PartitionState[], c: ClaimEvents, signal: AbortSignal): void {
  for (const st of parts) {
    void backend
      .claim(c.consumerName, st.index, { standby: true, signal })
      .then(async (claim) => {
        if (c.ending) {
          await claim.release();
          return;
        }
        st.claim = claim;
        watchLoss(st, c);
        try {
          await c.activate(st);
        } catch (err) {
          // The claim is kept (no other consumer of this name may skip past the position either); every delivery
          // reports the error until the consumer is closed and its position reset.
          st.failure = engineError(err);
        }
        c.wake();
      })
      .catch((err: unknown) => {
        if (!c.ending) c.fail(engineError(err));
      });
  }
}

/** Another consumer of this name took the partition over (its holder was declared dead): stop delivering it. */
function watchLoss(st: PartitionState, c: ClaimEvents): void {
  const claim = st.claim;
  claim?.onLost?.((reason) => {
    if (st.claim !== claim || c.ending) return;
    deactivate(st);
    c.fail(
      reason ?? new DiasporaError(
        ErrorCode.CONSUMER_BUSY,
        `consumer "${c.consumerName}" lost its claim on partition ${st.index} (another consumer took it over)`,
        { partition: st.index, lost: true },
      ),
    );
  });
}
