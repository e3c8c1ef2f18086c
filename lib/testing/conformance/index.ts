// The conformance suite every driver must pass: the reference's tested behaviours (API.md section 6) plus the
// semantics we add (waiting pulls, typed errors, named consumers, replay positions, exclusivity). Exported through
// 'diaspora-stream/driver' so that a driver written elsewhere can run it:
//
//   import test from 'ava';
//   import { defineConformanceSuite } from 'diaspora-stream/driver';
//   defineConformanceSuite(test, 'mine', async () => ({ driver, reopen, cleanup }));
//
// `test` is any function registering `test(title, async (t) => ...)` whose `t` has the assertions of
// ConformanceAssertions (ava's fits as it is). The factory gives a fresh, empty driver per check.
import { defineConsumerChecks } from './consumers.js';
import { suiteContext, type ConformanceTest, type DriverUnderTest } from './context.js';
import { defineLifecycleChecks } from './lifecycle.js';
import { defineTopicChecks } from './topics.js';

export type { ConformanceAssertions, ConformanceTest, DriverUnderTest, ThrowsExpectation } from './context.js';

export function defineConformanceSuite(test: ConformanceTest, label: string, make: () => Promise<DriverUnderTest>): void {
  const ctx = suiteContext(test, label, make);
  defineTopicChecks(ctx);
  defineConsumerChecks(ctx);
  defineLifecycleChecks(ctx);
}
