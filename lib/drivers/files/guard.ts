// The files driver's one conversion of engine errors: storage/ throws StorageError, lib/ hands out DiasporaError.
import { toDiasporaError } from '../../errors.js';

export function guard<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw toDiasporaError(err);
  }
}
