// Child process: rebuilds a validator from the JSON config given as argv[2] (as persisted in a topic by another
// process) and prints, for each metadata JSON in argv[3..], whether it is accepted.
import { validatorFromMetadata } from '../../../../lib/components/registry.js';
import type { JsonValue } from '../../../../lib/json.js';

const validator = await validatorFromMetadata(JSON.parse(process.argv[2]!) as JsonValue);
const verdicts = process.argv.slice(3).map((text) => {
  try {
    validator.validate(JSON.parse(text) as JsonValue);
    return true;
  } catch {
    return false;
  }
});
process.stdout.write(JSON.stringify({ metadata: validator.metadata(), verdicts }));
