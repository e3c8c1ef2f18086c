// Releases of generation locks (writer locks, consumer claims) that failed (no descriptor left, a disk error): the
// lock must not stay held by this live process, nor its prepared "free" record (a `.tmp-` file) stay in the lock
// folder, until the process exits. Each is tried again every RELEASE_RETRY_MS until it goes through or the lease
// turns out not to be ours any more (GenerationLock.release removes the prepared record either way).
import type { GenerationLock, Lease } from './generation-lock.js';

/** How often a release that failed is tried again in the background. */
export const RELEASE_RETRY_MS = 100;

interface PendingRelease {
  readonly gens: GenerationLock;
  readonly lease: Lease;
}

/** This thread's failed releases (timers and module state are per thread, like the locks' records). */
const pending = new Set<PendingRelease>();
let timer: NodeJS.Timeout | null = null;

/** Retries `lease`'s release in the background (the timer does not keep the process alive: an exit frees it too). */
export function releaseLater(gens: GenerationLock, lease: Lease): void {
  pending.add({ gens, lease });
  if (timer !== null) return;
  timer = setInterval(() => retryReleases(), RELEASE_RETRY_MS);
  timer.unref();
}

/**
 * Tries the pending releases again now, those of lock folder `dir` only when given (a writer about to take that lock
 * again settles them first). Returns how many are still pending.
 */
export function retryReleases(dir?: string): number {
  for (const p of pending) {
    if (dir !== undefined && p.gens.dir !== dir) continue;
    try {
      p.gens.release(p.lease);
    } catch {
      continue; // still failing: next period
    }
    pending.delete(p);
  }
  if (pending.size === 0 && timer !== null) {
    clearInterval(timer);
    timer = null;
  }
  return pending.size;
}

/** True while a release of lock folder `dir` is pending (cheap: writers look before each take). */
export function releasePending(dir: string): boolean {
  if (pending.size === 0) return false;
  for (const p of pending) if (p.gens.dir === dir) return true;
  return false;
}
