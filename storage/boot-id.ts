// This machine's boot id (Linux: /proc/sys/kernel/random/boot_id), read once per process: the recovery point
// stamps it (a point from another boot is only trusted up to its durable end) and the writer lock records it (a
// holder from another boot is dead).
import fs from 'node:fs';

let text: string | null | undefined;
let bytes: Buffer | null = null;

/** The boot id as the kernel prints it (a UUID), or null where there is none (not Linux). */
export function bootIdText(): string | null {
  if (text === undefined) {
    try {
      text = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
    } catch {
      text = null;
    }
  }
  return text;
}

/** The boot id as 16 bytes, or 16 zero bytes where there is none. */
export function bootIdBytes(): Buffer {
  if (bytes === null) {
    const hex = (bootIdText() ?? '').replace(/-/g, '');
    bytes = /^[0-9a-f]{32}$/i.test(hex) ? Buffer.from(hex, 'hex') : Buffer.alloc(16);
  }
  return bytes;
}
