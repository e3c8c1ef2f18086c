// Topic names are checked the same way by every driver: the engine's rules (no separators, no '..', no NUL, ...).
import { validateTopicName as validateStorageName } from '../../storage/topic-name.js';
import { toDiasporaError } from '../errors.js';

export function validateTopicName(name: string): void {
  try {
    validateStorageName(name);
  } catch (err) {
    throw toDiasporaError(err);
  }
}
