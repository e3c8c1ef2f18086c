// The partition contract (partition-contract.ts) for the native format.
import { partitionContract } from './partition-contract.js';
import { FORMATS } from './partition-formats.js';

partitionContract(FORMATS.native);
