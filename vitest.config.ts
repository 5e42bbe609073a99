import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'accounting/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration suites start real servers on free ports; keep files isolated.
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
  },
});
