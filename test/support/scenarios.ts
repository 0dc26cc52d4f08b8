import { type Scenario, SMALL_SCENARIO } from '../../src/cli/demo/scenario.ts';

/**
 * The demo scenario the runtime and CLI tests run: small enough to run several times in one test
 * (and against the emulators), still with a celebrity above a low threshold, quiet hours and
 * failures. Shared so the embedded and local-aws runs the tests compare are the same workload.
 */
export const TINY: Scenario = {
  ...SMALL_SCENARIO,
  celebrityFollowers: 1200,
  authors: 60,
  activeUsers: 900,
  extraEvents: 60,
  celebrityPosts: 2,
};
