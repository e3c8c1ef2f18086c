// parsePosition / parseDateTime: what --from and --to accept. An id is decimal digits; a date/time is ISO 8601 with a
// zone, or a date alone; everything else (which Date.parse() would have read as some date, 1.5 -> 2001) is refused.
import test from 'ava';
import { ErrorCode } from '../../../lib/index.js';
import { CliError } from '../../../scripts/cli/errors.js';
import { parseDateTime, parsePosition } from '../../../scripts/cli/driver-options.js';

test('names, ids and ISO 8601 date/times are positions', (t) => {
  t.is(parsePosition('earliest', false), 'earliest');
  t.is(parsePosition('latest', false), 'latest');
  t.is(parsePosition('committed', true), 'committed');
  t.is(parsePosition('0', false), 0);
  t.is(parsePosition('42', false), 42);
  t.is(parsePosition(String(Number.MAX_SAFE_INTEGER), false), Number.MAX_SAFE_INTEGER);
  const at = (v: string): number => (parsePosition(v, false) as Date).getTime();
  t.is(at('2026-01-01'), Date.UTC(2026, 0, 1));
  t.is(at('2024-02-29'), Date.UTC(2024, 1, 29));
  t.is(at('2026-01-01T10:20Z'), Date.UTC(2026, 0, 1, 10, 20));
  t.is(at('2026-01-01T10:20:30Z'), Date.UTC(2026, 0, 1, 10, 20, 30));
  t.is(at('2026-01-01T10:20:30.250Z'), Date.UTC(2026, 0, 1, 10, 20, 30, 250));
  t.is(at('2026-01-01T10:20:30+02:00'), Date.UTC(2026, 0, 1, 8, 20, 30));
  t.is(at('2026-01-01T10:20:30-0130'), Date.UTC(2026, 0, 1, 11, 50, 30));
});

test('anything else is BAD_ARGUMENT naming the option, instead of whatever Date.parse makes of it', (t) => {
  for (const value of ['1.5', '-3', '5 ', ' 5', '+5', '0x10', '1e3', '', 'first', 'Committed', '2026-1-1',
    '2026-02-30', '2026-13-01', '2026-01-01T24:00:00Z', '2026-01-01T10:60Z', '2026-01-01T10:00', '2026-01-01 10:00:00Z',
    'Jan 1 2026', '2026-01-01T10:00:00+25:00', 'Thu, 01 Jan 2026 00:00:00 GMT']) {
    const err = t.throws(() => parsePosition(value, false, '--to'), { instanceOf: CliError }, JSON.stringify(value));
    t.is(err?.code, ErrorCode.BAD_ARGUMENT, JSON.stringify(value));
    t.true(err?.message.startsWith(`--to: invalid position ${JSON.stringify(value)}: expected earliest, latest, an event id`), err?.message);
  }
  t.is(parseDateTime('1.5'), undefined);
  // committed only where it is allowed; an id beyond 2^53 would be rounded.
  t.throws(() => parsePosition('committed', false), { instanceOf: CliError, message: /expected earliest, latest, an event id/ });
  t.throws(() => parsePosition('9007199254740993', false), { instanceOf: CliError, message: /too large/ });
});
