/**
 * The chaos suite's CI subset (the full matrix is `npm run chaos`, see docs/reliability.md): on a
 * 40-node generated fleet, worker SIGKILLs with `status` polled every 2 s, an operator storm with
 * forged and malformed signals, and a 5 s fleet API outage. Each from a fresh environment (its own
 * dev server, simulator and worker processes), judged from the simulator's monitor and op log.
 */
import { describe, expect, it } from 'vitest';
import { summary } from '../../chaos/lib/summary';
import { CI_EXPERIMENTS } from '../../chaos/lib/experiments';
import { runExperiment } from '../../chaos/lib/run';

const SEED = 11;
// Small enough to keep the suite short; the full matrix (npm run chaos) runs 300.
const NODES = 40;

describe(`chaos (CI subset, ${NODES} nodes)`, () => {
  for (const experiment of CI_EXPERIMENTS) {
    it(`${experiment.name}: ${experiment.description}`, async () => {
      const result = await runExperiment({ experiment, nodes: NODES, seed: SEED, timeoutMs: 4 * 60_000, stallMs: 60_000, log: () => undefined });
      expect(result.violations, summary(result)).toEqual([]);
      expect(result.campaign.state).toBe('COMPLETED');
      expect(result.figures.capViolations).toBe(0);
      expect(result.faults.length).toBeGreaterThan(0);
    }, 6 * 60_000);
  }
});
