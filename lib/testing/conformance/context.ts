// The context the conformance checks share: the test function they are registered with (ava's `test`, or any
// function of the same shape), the driver factory, and small helpers.
import { DiasporaError, type Driver, type TopicHandle } from '../../index.js';

/** The assertions the checks use: a subset of ava's ExecutionContext, so ava's `t` fits as it is. */
export interface ConformanceAssertions {
  is(actual: unknown, expected: unknown, message?: string): unknown;
  not(actual: unknown, expected: unknown, message?: string): unknown;
  deepEqual(actual: unknown, expected: unknown, message?: string): unknown;
  true(actual: unknown, message?: string): unknown;
  false(actual: unknown, message?: string): unknown;
  truthy(actual: unknown, message?: string): unknown;
  throws(fn: () => unknown, expectations?: ThrowsExpectation, message?: string): unknown;
  throwsAsync(promise: PromiseLike<unknown>, expectations?: ThrowsExpectation, message?: string): Promise<unknown>;
}

export interface ThrowsExpectation {
  instanceOf?: abstract new (...args: never[]) => unknown;
  message?: string | RegExp;
}

/** Registers one check: `test(title, async (t) => ...)`, as ava's `test` does. */
export type ConformanceTest = (title: string, implementation: (t: ConformanceAssertions) => Promise<void>) => void;

export interface DriverUnderTest {
  driver: Driver;
  /** A second driver on the same storage (another "process view"); same object where that makes no sense. */
  reopen(): Promise<Driver>;
  cleanup(): Promise<void>;
}

export interface SuiteContext {
  readonly test: ConformanceTest;
  readonly label: string;
  /** Runs fn with a fresh driver from the factory, then closes and cleans it up. */
  withDriver(fn: (d: Driver, env: DriverUnderTest) => Promise<void>): Promise<void>;
  /** Creates a topic with a fresh name and opens it. */
  topicWith(d: Driver, spec?: Parameters<Driver['createTopic']>[1]): Promise<TopicHandle>;
  /** A name not used before in this suite (topics, consumers). */
  fresh(prefix: string): string;
}

export const enc = (s: string): Buffer => Buffer.from(s, 'utf8');
export const LOWER = 'abcdefghijklmnopqrstuvwxyz';
export const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

export function isCode(code: string) {
  return (err: unknown): boolean => err instanceof DiasporaError && err.code === code;
}

export function suiteContext(test: ConformanceTest, label: string, make: () => Promise<DriverUnderTest>): SuiteContext {
  let counter = 0;
  const fresh = (prefix: string): string => `${prefix}${++counter}_${process.pid}`;
  return {
    test,
    label,
    fresh,
    async withDriver(fn) {
      const env = await make();
      try {
        await fn(env.driver, env);
      } finally {
        try {
          await env.driver.close();
        } finally {
          await env.cleanup();
        }
      }
    },
    async topicWith(d, spec = {}) {
      const name = fresh('topic_');
      await d.createTopic(name, spec);
      return d.openTopic(name);
    },
  };
}
