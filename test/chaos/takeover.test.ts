/**
 * A worker taking over a campaign while someone watches `status` (chaos/lib/takeover.ts): the exact
 * sequence behind the CI runs of worker-kills-ci that stalled with nothing in flight, made to happen
 * every time. It fails if task-boundary.ts keeps a run cached past its last workflow task (no query is
 * refused, and the campaign never acts on the resume: nodes never touched).
 */
import { describe, expect, it } from 'vitest';
import { runExperiment } from '../../chaos/lib/run';
import { summary } from '../../chaos/lib/summary';
import { takeover } from '../../chaos/lib/takeover';

describe('chaos: a worker takes over a paused campaign while status is queried', () => {
  it('refuses the queries that reach the new worker before the task, then acts on the resume: every node patched once', async () => {
    const result = await runExperiment({ experiment: takeover, nodes: 16, seed: 11, timeoutMs: 3 * 60_000, stallMs: 60_000, log: () => undefined });
    expect(result.violations, summary(result)).toEqual([]);
    expect(result.campaign.state).toBe('COMPLETED');
    expect(result.figures.patched).toBe(16);
    expect(result.faults.some((f) => /status queries after the resume: [1-9]\d* refused/.test(f))).toBe(true);
  }, 5 * 60_000);
});
