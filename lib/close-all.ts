// Closing a tree of objects: children first (each even if another fails), then the owner's engine; the first
// failure is reported once everything was attempted.
import { toDiasporaError } from './errors.js';

export async function closeAll(children: Iterable<{ close(): Promise<void> }>, closeOwn: () => unknown, markClosed: () => void): Promise<void> {
  const errors: unknown[] = [];
  for (const c of children) {
    try {
      await c.close();
    } catch (err) {
      errors.push(err);
    }
  }
  markClosed();
  try {
    await closeOwn();
  } catch (err) {
    errors.push(err);
  }
  if (errors.length > 0) throw toDiasporaError(errors[0]);
}
