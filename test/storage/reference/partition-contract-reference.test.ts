// The partition contract (../partition-contract.ts) for the C++ reference's format.
import { partitionContract } from '../partition-contract.js';
import { FORMATS } from '../partition-formats.js';

partitionContract(FORMATS.reference);
