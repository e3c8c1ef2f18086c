// setTimeout keeps its delay in a signed 32-bit integer: Node turns a longer delay (or Infinity) into 1 ms, with a
// TimeoutOverflowWarning, so "wait a month" or "wait forever" would return at once. A wait longer than a timer can
// hold is a wait without a timer.

/** The longest delay setTimeout honours: 2^31 - 1 ms, about 24.8 days. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** setTimeout(fn, ms), or undefined (nothing will fire) when `ms` is more than a timer can hold. */
export function timeoutUnlessForever(fn: () => void, ms: number): NodeJS.Timeout | undefined {
  return ms > MAX_TIMER_MS ? undefined : setTimeout(fn, ms);
}
