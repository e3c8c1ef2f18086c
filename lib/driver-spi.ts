// diaspora-stream/driver: what a driver author needs (the SPI), kept out of the main entry that applications use.
// A driver is a factory returning a DriverBackend; registerDriver makes it available to Driver.create(name).
// One member exists for the conformance suite only: TopicBackend.stealClaim, which takes a live consumer's claim
// away so that the suite can check the consumer is told (see lib/backend.ts).

export { registerDriver, type DriverFactory } from './driver-registry.js';
export type {
  MaybePromise,
  DriverBackend,
  TopicBackend,
  PartitionBackend,
  OffsetsBackend,
  ClaimHandle,
  BackendRecord,
  BackendRun,
  BackendAppendEvent,
  BackendPartitionStats,
  BackendRecoveryReport,
  ConsumerPosition,
  PositionDamage,
  VerifyProblem,
} from './backend.js';
export type { DataSource } from './data/selection.js';
export { DiasporaError, ErrorCode, toDiasporaError, type ErrorDetails } from './errors.js';
export type { JsonObject, JsonValue } from './json.js';
export {
  defineConformanceSuite,
  type ConformanceAssertions,
  type ConformanceTest,
  type DriverUnderTest,
  type ThrowsExpectation,
} from './testing/conformance/index.js';
