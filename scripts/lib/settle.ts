// Isolates benchmark phases from each other: collects garbage (multi-GiB input buffers or mappings of an earlier
// phase would otherwise be unmapped by a GC thread during the next one, holding the kernel's mmap lock for tenths of
// a second) and writes back dirty pages (so no phase pays for an earlier phase's writeback).
import { execFileSync } from 'node:child_process';
import v8 from 'node:v8';
import vm from 'node:vm';

v8.setFlagsFromString('--expose-gc');
const collectGarbage = vm.runInNewContext('gc') as () => void;

export function settle(): void {
  collectGarbage();
  execFileSync('sync');
}
