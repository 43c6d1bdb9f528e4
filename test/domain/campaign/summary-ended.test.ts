/**
 * Once a campaign has ended, its one-line summary says so and nothing else: an aborted campaign's
 * status read "aborted — 1 cluster moving; aborting: in-flight nodes finish" long after it closed.
 */
import { describe, expect, it } from 'vitest';
import { newCampaignState } from '../../../src/domain/campaign/state';
import { summaryLine } from '../../../src/domain/campaign/status';
import type { CampaignPhase } from '../../../src/domain/campaign/types';
import type { ClusterPlan } from '../../../src/domain/plan';
import { parsePolicy } from '../../../src/domain/policy';

const alert = { cveId: 'CVE-2024-6387', packages: [{ name: 'openssh-server', fixedVersion: '9.8.1' }], scope: 'all', source: 'generic' as const };
const cluster = (id: string): ClusterPlan => ({ id, nodes: [`${id}-1`, `${id}-2`, `${id}-3`, `${id}-4`], canary: `${id}-1`, rescue: `${id}-4`, cap: 1, size: 4, reason: '' }) as unknown as ClusterPlan;

function endedWithWorkLeft(phase: CampaignPhase) {
  const state = newCampaignState(alert, 'all', parsePolicy({}), '2026-12-01T00:00:00Z');
  state.plan = { ...state.plan, tiers: [{ tier: 1, clusters: [cluster('web'), cluster('api')] }] } as typeof state.plan;
  state.tierStage = 'patching';
  state.outcomes['web-1'] = 'patched';
  state.outcomes['api-1'] = 'rolled-back';
  state.abortRequested = phase === 'aborted';
  state.phase = phase;
  return state;
}

describe('summaryLine of an ended campaign', () => {
  it.each(['aborted', 'completed', 'failed'] as const)('%s: the phase alone, nothing moving, halted or aborting', (phase) => {
    const state = endedWithWorkLeft(phase);
    expect(summaryLine(state, state.plan.tiers[0])).toBe(phase);
  });

  it('a gate halt that ended it is still named', () => {
    const state = endedWithWorkLeft('aborted');
    state.gateHalt = 'tier 1 gate: error rate regressed';
    expect(summaryLine(state, state.plan.tiers[0])).toBe('aborted — tier 1 gate: error rate regressed');
  });

  it('a running campaign still says what moves (the rule applies to ended ones only)', () => {
    const state = endedWithWorkLeft('running');
    expect(summaryLine(state, state.plan.tiers[0])).toMatch(/^running — 1 cluster halted: api \(api-1 rolled-back\)/);
  });
});
