import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // One graphql instance, the one Node resolves (as the dependencies get it): otherwise the
    // sources would load the ESM build and Apollo and graphql-tools the CommonJS one, and a
    // schema from one would be refused by the other ("from another module or realm").
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    globalSetup: ['test/setup/global.ts'],
    pool: 'forks',
    // Two test files at a time even on two cores (Vitest's default would be one there): a file
    // spends much of its time waiting on the store, a gateway or the browser, and each works in
    // its own database, so the suite takes about two thirds of the time.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    testTimeout: 30_000,
    hookTimeout: 120_000,
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
