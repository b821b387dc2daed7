import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';

const require = createRequire(import.meta.url);

/**
 * Test files that start gateway processes or stores of their own and kill them (signals, crashes,
 * outages): they run last, one at a time and beside nothing else, so their timings are theirs.
 */
const ALONE = [
  'test/faults.test.ts',
  'test/index-builds.test.ts',
  'test/main.test.ts',
  'test/outage-writes.test.ts',
  'test/safe-defaults.test.ts',
  'test/store-outage.test.ts',
];

const shared = {
  extends: true,
  test: { pool: 'forks', testTimeout: 30_000, hookTimeout: 120_000 },
} satisfies TestProjectInlineConfiguration;

export default defineConfig({
  resolve: {
    // One graphql instance, the one Node resolves (as the dependencies get it): otherwise the
    // sources would load the ESM build and Apollo and graphql-tools the CommonJS one, and a
    // schema from one would be refused by the other ("from another module or realm").
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    globalSetup: ['test/setup/global.ts'],
    reporters: ['default'],
    // Two test files at a time even on two cores (Vitest's default would be one there): a file
    // spends much of its time waiting on the store, a gateway or the browser, and each works in
    // its own database, so the suite takes about two thirds of the time.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    projects: [
      {
        ...shared,
        test: {
          ...shared.test,
          name: 'suite',
          include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
          exclude: ALONE,
          sequence: { groupOrder: 0 },
        },
      },
      {
        ...shared,
        test: {
          ...shared.test,
          name: 'alone',
          include: ALONE,
          poolOptions: { forks: { singleFork: true } },
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
