// The tests' one temp-folder helper: a fresh folder under the OS temp dir, removed when its test (or file) ends.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** What registers a removal: ava's `t` (per test), or `{ teardown: test.after.always }` for a whole file (at its top level). */
export interface Teardown {
  teardown(fn: () => void): void;
}

/** A fresh folder (under `parent`, default the OS temp dir), removed with its content when `t` ends. */
export function tempDir(t: Teardown, prefix = 'diaspora-test-', parent = os.tmpdir()): string {
  const dir = ownedTempDir(prefix, parent);
  t.teardown(dir.remove);
  return dir.path;
}

/** For code without a test context (a child process, a suite factory's cleanup): the folder and its removal. */
export function ownedTempDir(prefix = 'diaspora-test-', parent = os.tmpdir()): { readonly path: string; remove(): void } {
  const dir = fs.mkdtempSync(path.join(parent, prefix));
  return { path: dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
