// How long a file size measured with fstat is trusted before bytes are touched again: until the event loop turns.
// A reader measures its files once per read call; events are often used later (a consumer delivers a batch one
// event at a time, across awaits), and a file that another process truncated meanwhile must be re-measured (CORRUPTION)
// rather than touched (SIGBUS). Checking a clock on every access cost 60-120 ns per event here (performance.now()
// alone is 25-90 ns); comparing a turn counter costs about nothing, and every turn of the event loop (a
// timer, I/O, setImmediate; not an await of a resolved promise) ends the trust. What remains is the time between an fstat and the touch within one synchronous run.

let turn = 0;
let pending = false;

function nextTurn(): void {
  turn++;
  pending = false;
}

/** Stamps a measurement made now: valid for the current turn of the event loop. */
export function stampMeasure(): number {
  if (!pending) {
    pending = true;
    // unref: a pending stamp never keeps the process alive.
    setImmediate(nextTurn).unref();
  }
  return turn;
}

/** True while a measurement stamped `stamp` is still in the current turn. */
export function stillThisTurn(stamp: number): boolean {
  return stamp === turn && pending;
}
