import { defineConfig } from 'vitest/config';

/**
 * The pure core's tests only (no Temporal dev server, no simulator): what mutation testing of
 * src/domain runs for every mutant (`npm run mutation`, stryker.config.json). Two slow tests are
 * left out of the mutation runs only (they run in the normal suite): the exhaustive cluster-window
 * sweep (1..200 nodes × every cap; minutes under instrumentation) and the differential version
 * tests (thousands of dpkg/rpm processes per run). docs/testing.md says what that costs.
 */
export default defineConfig({
  test: {
    include: ['test/domain/**/*.test.ts'],
    exclude: ['test/domain/versions.differential.test.ts'],
    testNamePattern: /^(?!.*every cluster size 1\.\.200)/,
    testTimeout: 120_000,
  },
});
