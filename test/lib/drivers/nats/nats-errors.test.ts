// withRetry: transient failures are retried until `retryMs`, others thrown at once; a caller can widen what counts
// as transient (the driver's buckets just made on a new cluster answer "stream not found" for a moment).
import test from 'ava';
import { DiasporaError } from '../../../../lib/index.js';
import { JsCode, withRetry } from '../../../../lib/drivers/nats/nats-errors.js';

const streamNotFound = (): Error => Object.assign(new Error('stream not found'), { name: 'StreamNotFoundError', code: JsCode.STREAM_NOT_FOUND });

test('"stream not found" is thrown at once by default, retried when the caller says it is transient', async (t) => {
  let calls = 0;
  const failTwice = async (): Promise<string> => {
    if (++calls <= 2) throw streamNotFound();
    return 'ok';
  };
  const err = await t.throwsAsync(withRetry(5_000, 'read', failTwice), { instanceOf: DiasporaError });
  t.is(err?.code, 'IO');
  t.is(calls, 1);
  calls = 0;
  t.is(await withRetry(5_000, 'read', failTwice, (e) => (e as { code?: number }).code === JsCode.STREAM_NOT_FOUND), 'ok');
  t.is(calls, 3);
});

test('a retried failure that lasts past retryMs is thrown, named', async (t) => {
  const err = await t.throwsAsync(
    withRetry(120, 'open bucket b', async () => {
      throw streamNotFound();
    }, () => true),
    { instanceOf: DiasporaError },
  );
  t.regex(err!.message, /^open bucket b: stream not found/);
});
