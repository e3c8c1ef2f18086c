// Process warnings emitted during a test ("<name>: <message>"), collected until the test ends.
import type { ExecutionContext } from 'ava';

export function collectWarnings(t: ExecutionContext): string[] {
  const warnings: string[] = [];
  const onWarning = (w: Error): void => {
    warnings.push(`${w.name}: ${w.message}`);
  };
  process.on('warning', onWarning);
  t.teardown(() => process.off('warning', onWarning));
  return warnings;
}

/** The MaxListenersExceededWarning among `warnings` (emitted on the next tick: await one before looking). */
export async function listenerLeakWarnings(warnings: readonly string[]): Promise<string[]> {
  await new Promise((resolve) => setImmediate(resolve));
  return warnings.filter((w) => w.includes('MaxListeners'));
}
