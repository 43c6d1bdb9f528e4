/**
 * What changes while Stryker runs the domain tests (docs/testing.md, "Mutation testing"). Stryker
 * runs the covering tests once per mutant — thousands of runs — in processes it marks with
 * STRYKER_MUTATOR_WORKER. There, property tests run at most MUTATION_RUNS cases from one fixed seed
 * (test/domain/support/mutation-setup.ts): cheap enough for every mutant, and a mutant is killed or
 * not the same way on every run, which `--incremental` relies on. The normal suite keeps each
 * test's own count and fast-check's random seed.
 */
export const underMutation = process.env.STRYKER_MUTATOR_WORKER !== undefined;

/** Cases per property under Stryker; PATCHWAVE_MUTATION_RUNS overrides. */
export const MUTATION_RUNS = Number(process.env.PATCHWAVE_MUTATION_RUNS ?? 100);

/** A property's run count: its own in the suite, at most MUTATION_RUNS under Stryker. */
export function runs(count: number): number {
  return underMutation ? Math.min(count, MUTATION_RUNS) : count;
}
