// Names of the databases a test run creates on the store: `erintest_<run>_<purpose>_<random>`.
// Each test drops its own; the run's teardown drops whatever is left of its run (an interrupted
// test, a CLI test's database) on a MONGODB_URI server, and never touches another run's.
export const TEST_DB_PREFIX = 'erintest_';

export function runDbPattern(runId: string): RegExp {
  return new RegExp(`^${TEST_DB_PREFIX}${runId}_`);
}
