import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Integration tests each start their own simulator and gateway on port 0,
    // so files can run in parallel; two workers match our 2-core machines.
    pool: 'forks',
    maxWorkers: 2,
  },
});
