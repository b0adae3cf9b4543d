import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: suites that start relays and browsers must not starve each other.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
