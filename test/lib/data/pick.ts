// Shared by the descriptor tests: the bytes a descriptor selects from a text, read through flatten().
import type { DataDescriptor } from '../../../lib/data/data-descriptor.js';

export const AZ = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

export function pick(text: string, d: DataDescriptor): string {
  return d
    .flatten()
    .map(([o, s]) => text.slice(o, o + s))
    .join('');
}
