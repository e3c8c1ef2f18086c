// Writes a forward.yaml for the forwarding daemon (scripts/cli/forward-daemon.ts): named drivers and routes.
import fs from 'node:fs';
import { stringify } from 'yaml';

export interface DriverEntry {
  type: string;
  options: Record<string, unknown>;
}

/** `routes` are [from, to] pairs of "driver/topic". */
export function writeForwardConfig(file: string, drivers: Record<string, DriverEntry>, routes: Array<[string, string]>): void {
  fs.writeFileSync(file, stringify({ drivers, forward: routes.map(([from, to]) => ({ from, to })) }));
}
