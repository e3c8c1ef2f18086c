// The commit watcher's safety poll: slow while the folder is watched (the watch wakes waiters), fast once the watch
// fails (then the poll is the only way to see other processes' commits); a change of a file the format does not commit
// through wakes nobody, one it commits through wakes at once.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { CommitWatcher, POLL_INTERVAL_MS, WATCHED_POLL_INTERVAL_MS } from '../../storage/commit-watcher.js';
import { tempDir } from '../temp-dir.js';

test('watched: the slow poll; a change of the commit file wakes the waiter without waiting for the poll', async (t) => {
  const dir = tempDir(t, 'diaspora-watch-');
  const w = new CommitWatcher(dir, (name) => name.endsWith('.index'));
  t.teardown(() => w.close());
  let committed = false;
  t.is(w.pollIntervalMs, null, 'no poll while nobody waits');
  const waiting = w.wait(() => committed, 10_000);
  t.is(w.pollIntervalMs, WATCHED_POLL_INTERVAL_MS);
  // The poll silenced (its timer cleared, the field left set): only the watch can wake the waiter now, and if it did
  // not, the wait would end false after its 10 s.
  clearInterval((w as unknown as { pollTimer: NodeJS.Timeout }).pollTimer);
  committed = true;
  fs.writeFileSync(path.join(dir, 'x.index'), 'x');
  t.true(await waiting, 'woken by the watch, not the poll');
  t.is(w.pollIntervalMs, null, 'the poll stops with the last wait');
});

test('a watch that fails leaves the fast poll, which still sees a commit', async (t) => {
  const dir = tempDir(t, 'diaspora-watch-');
  const w = new CommitWatcher(dir);
  t.teardown(() => w.close());
  let committed = false;
  const waiting = w.wait(() => committed, 10_000);
  // What fs.watch does when the watch breaks (e.g. the folder went away, or inotify's limits).
  (w as unknown as { watcher: fs.FSWatcher }).watcher.emit('error', new Error('watch broke'));
  t.is(w.pollIntervalMs, POLL_INTERVAL_MS);
  committed = true; // no file change: only the poll can notice
  t.true(await waiting);
});
