// WakeSignal: waits race a promise against a signal and take their listener off when decided, so a long-lived
// signal never accumulates anything per wait.
import test from 'ava';
import { WakeSignal } from '../../lib/wake-signal.js';

test('race: the promise wins with its value, or the signal wins with undefined; listeners are taken off either way', async (t) => {
  const s = new WakeSignal();
  t.is(await WakeSignal.race([Promise.resolve(7)], [s]), 7);
  t.is(s.listening, 0);
  let resolveLater!: (v: number) => void;
  const later = new Promise<number>((r) => (resolveLater = r));
  const racing = WakeSignal.race([later], [s]);
  t.is(s.listening, 1);
  s.fire();
  t.is(await racing, undefined);
  t.is(s.listening, 0);
  resolveLater(1); // settles later: nothing happens
  await t.throwsAsync(WakeSignal.race([Promise.reject(new Error('boom'))], [s]), { message: 'boom' });
  t.is(s.listening, 0);
});

test('a non-latching signal wakes only the waits listening when it fires; a latching one stays fired', async (t) => {
  const s = new WakeSignal();
  s.fire();
  const never = new Promise<number>(() => {});
  const r = WakeSignal.race([never], [s]);
  t.is(s.listening, 1, 'an earlier fire does not count');
  s.fire();
  t.is(await r, undefined);
  const stop = new WakeSignal(true);
  t.false(stop.fired);
  stop.fire();
  t.true(stop.fired);
  t.is(await WakeSignal.race([never], [stop]), undefined);
  t.is(stop.listening, 0);
});

test('racing against several signals: any one decides, and every signal is left without the listener', async (t) => {
  const a = new WakeSignal();
  const b = new WakeSignal();
  const never = new Promise<number>(() => {});
  for (let i = 0; i < 10_000; i++) {
    const r = WakeSignal.race([never], [a, b]);
    (i % 2 === 0 ? a : b).fire();
    t.is(await r, undefined);
  }
  t.is(a.listening, 0);
  t.is(b.listening, 0);
  const won = WakeSignal.race<string | number>([Promise.resolve('x'), never], [a, b]);
  t.is(await won, 'x');
  t.is(a.listening + b.listening, 0);
});
