import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Child-process tests (SIGKILL, demo) take seconds; none asserts on wall-clock time.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // The AWS emulators start once per run; AWS adapter tests reach them through inject().
    globalSetup: ['test/support/aws-emulators.global.ts'],
  },
});
