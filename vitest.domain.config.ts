import { defineConfig } from 'vitest/config';

/**
 * The pure core's tests only (no Temporal dev server, no simulator): what mutation testing of
 * src/domain runs for every mutant (`npm run mutation:domain`, stryker.config.json). Two slow files
 * are left out here and run in the normal suite: the exhaustive cluster-window sweep
 * (window.sweep.test.ts: 1..200 nodes × every cap; minutes per mutant under instrumentation) and
 * the differential version tests (thousands of dpkg/rpm processes per run). They are left out by
 * file, not by test name: Stryker's vitest runner replaces `testNamePattern` with its own on every
 * run, so a name filter here would not hold under Stryker. docs/testing.md says what that costs.
 *
 * Under Stryker (it sets STRYKER_MUTATOR_WORKER on its test runners) a setup file caps property
 * runs and fixes the seed: test/domain/support/mutation.ts.
 */
const underStryker = process.env.STRYKER_MUTATOR_WORKER !== undefined;

export default defineConfig({
  test: {
    include: ['test/domain/**/*.test.ts'],
    exclude: ['test/domain/versions.differential.test.ts', 'test/domain/window.sweep.test.ts'],
    setupFiles: underStryker ? ['test/domain/support/mutation-setup.ts'] : [],
    testTimeout: 120_000,
  },
});
