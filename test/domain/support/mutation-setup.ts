/**
 * Loaded by vitest.domain.config.ts only when Stryker runs the tests (see ./mutation.ts): properties
 * without their own count run MUTATION_RUNS cases, every property from one fixed seed.
 */
import fc from 'fast-check';
import { MUTATION_RUNS } from './mutation';

fc.configureGlobal({ numRuns: MUTATION_RUNS, seed: 20_261_201 });
