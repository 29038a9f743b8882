import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // graphql 16 ships CommonJS (main) and ESM (module) builds. Node, and so Apollo Server,
    // loads the CommonJS one; Vite would pick the ESM one for our sources, and two graphql
    // realms cannot share a schema ("Cannot use GraphQLObjectType from another module or realm").
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
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
