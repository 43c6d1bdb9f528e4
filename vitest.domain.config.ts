import { relative } from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The pure core's tests only (no Temporal dev server, no simulator): what mutation testing of
 * src/domain runs for every mutant (`npm run mutation:domain`, stryker.config.json). Two slow files
 * are left out here and run in the normal suite: the exhaustive cluster-window sweep
 * (window.sweep.test.ts: 1..200 nodes × every cap; minutes per mutant under instrumentation) and
 * the differential version tests (thousands of dpkg/rpm processes per run; their answers are
 * replayed by versions.recorded.test.ts). They are left out by file, not by test name: Stryker's
 * vitest runner replaces `testNamePattern` with its own on every run, so a name filter here would
 * not hold under Stryker. docs/testing.md says what that costs.
 *
 * Under Stryker (it sets STRYKER_MUTATOR_WORKER on its test runners) a setup file caps property
 * runs and fixes the seed (test/domain/support/mutation.ts), and test files run quickest first.
 */
const underStryker = process.env.STRYKER_MUTATOR_WORKER !== undefined;

/**
 * Stryker stops a mutant's run at the first failing test, so the order of files is the cost of a
 * killed mutant. Vitest's own order runs the longest files first (best for a full suite on many
 * workers); here a file that failed last time goes first (it killed the previous mutant, usually in
 * the same code), then the quickest: a mutant the campaign model would kill in 5 s is killed by the
 * operator rules in 50 ms.
 */
class QuickestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const { cache, config } = this.ctx;
    const last = (file: TestSpecification) => cache.getFileTestResults(`${file.project.name}:${relative(config.root, file.moduleId)}`);
    const keyed = files.map((file) => ({ file, result: last(file) }));
    keyed.sort((a, b) => Number(b.result?.failed ?? false) - Number(a.result?.failed ?? false) || (a.result?.duration ?? Number.MAX_VALUE) - (b.result?.duration ?? Number.MAX_VALUE));
    return keyed.map(({ file }) => file);
  }
}

export default defineConfig({
  test: {
    include: ['test/domain/**/*.test.ts'],
    exclude: ['test/domain/versions.differential.test.ts', 'test/domain/window.sweep.test.ts'],
    setupFiles: underStryker ? ['test/domain/support/mutation-setup.ts'] : [],
    ...(underStryker && { sequence: { sequencer: QuickestFirst } }),
    testTimeout: 120_000,
  },
});
