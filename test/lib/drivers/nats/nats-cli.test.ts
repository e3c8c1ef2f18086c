// diaspora-ctl with --driver nats: topic create/list/describe, produce | consume round trip, consumers, against a
// real nats-server started for the test.
import test from 'ava';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { natsServerUnavailable, startNatsServer } from './nats-server.js';

const CTL = fileURLToPath(new URL('../../../../scripts/cli/diaspora-ctl.js', import.meta.url));
const unavailable = natsServerUnavailable() ?? (fs.existsSync(CTL) ? null : `the CLI is not built (${CTL})`);

function ctl(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [CTL, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

if (unavailable) {
  test.skip(`nats CLI test skipped: ${unavailable}`, () => {});
} else {
  test('nats: diaspora-ctl topic create/list/describe, produce | consume, consumers', async (t) => {
    const server = await startNatsServer();
    t.teardown(() => server.stop());
    const D = ['--driver', 'nats', '--driver.servers', server.url, '--driver.prefix', `cli${process.pid}`];
    const created = await ctl(['topic', 'create', ...D, '--name', 'readings', '--topic.num_partitions', '2']);
    t.is(created.code, 0, created.stderr);
    const dup = await ctl(['topic', 'create', ...D, '--name', 'readings']);
    t.not(dup.code, 0);
    t.regex(dup.stderr, /TOPIC_EXISTS|exists/);
    const list = await ctl(['topic', 'list', ...D]);
    t.is(list.code, 0, list.stderr);
    t.true(list.stdout.split('\n').includes('readings'));
    const lines = Array.from({ length: 20 }, (_, i) => JSON.stringify({ metadata: { i }, data: Buffer.from(`payload ${i}`).toString('base64') }));
    const produced = await ctl(['produce', 'readings', ...D], lines.join('\n') + '\n');
    t.is(produced.code, 0, produced.stderr);
    const consumed = await ctl(['consume', 'readings', ...D, '--name', 'reader', '--from', 'earliest', '--until', 'end']);
    t.is(consumed.code, 0, consumed.stderr);
    const events = consumed.stdout.trim().split('\n').map((l) => JSON.parse(l) as { metadata: { i: number }; data: string; partition: number; id: number });
    t.is(events.length, 20);
    for (const e of events) t.is(Buffer.from(e.data, 'base64').toString(), `payload ${e.metadata.i}`);
    t.deepEqual(events.map((e) => e.metadata.i).sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i));
    const again = await ctl(['consume', 'readings', ...D, '--name', 'reader', '--until', 'end']);
    t.is(again.code, 0, again.stderr);
    t.is(again.stdout.trim(), '', 'the named consumer resumes after what it acknowledged');
    const describe = await ctl(['topic', 'describe', 'readings', ...D]);
    t.is(describe.code, 0, describe.stderr);
    t.regex(describe.stdout, /reader/);
    const consumers = await ctl(['consumers', 'readings', ...D]);
    t.is(consumers.code, 0, consumers.stderr);
    t.regex(consumers.stdout, /reader/);
  });
}
