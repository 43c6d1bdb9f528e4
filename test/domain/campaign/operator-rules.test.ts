/**
 * Each operator control, refused and applied, as an operator sees it: the exact refusal, the
 * state it leaves, the operator-log line and the answer. The model test (model.property.test.ts)
 * proves the controls never break a safety rule; this one proves each does what its name says.
 */
import { describe, expect, it } from 'vitest';
import { applyControl, refusalOf, type Control } from '../../../src/domain/campaign/operator';
import { newCampaignState } from '../../../src/domain/campaign/state';
import type { CampaignState } from '../../../src/domain/campaign/types';
import type { ClusterPlan } from '../../../src/domain/plan';
import { parsePolicy, type PolicyInput } from '../../../src/domain/policy';

const alert = { cveId: 'CVE-2024-6387', packages: [{ name: 'openssh-server', fixedVersion: '9.8.1' }], scope: 'all', source: 'generic' as const };
const NOW = '2026-12-01T01:00:00.000Z';

const clusterOf = (id: string, size: number, tier: 1 | 2 | 3 = 1, extra: Partial<ClusterPlan> = {}): ClusterPlan => {
  const nodes = Array.from({ length: size }, (_, i) => `${id}-${i + 1}`);
  return { id, tier, nodes, canary: nodes[0]!, rescue: size >= 3 ? nodes[size - 1] : undefined, cap: 1, size, needsApproval: false, noReboot: false, reason: 't', ...extra };
};

/** Tier 1: web (4 nodes), db (1 node, needs approval); tier 2: batch (3 nodes). */
function campaign(policy: PolicyInput = {}): CampaignState {
  const state = newCampaignState(alert, 'all', parsePolicy(policy), '2026-12-01T00:00:00Z');
  state.plan = {
    cveId: alert.cveId,
    scope: 'all',
    tiers: [
      { tier: 1, clusters: [clusterOf('web', 4), clusterOf('db', 1, 1, { needsApproval: true })] },
      { tier: 2, clusters: [clusterOf('batch', 3, 2)] },
    ],
    totalNodes: 8,
    notAffected: [],
  };
  state.phase = 'running';
  return state;
}

/** Applies a control the rules accept; fails the test when they refuse it. */
function apply(state: CampaignState, control: Control): string {
  expect(refusalOf(state, control)).toBeUndefined();
  return applyControl(state, control, NOW);
}

describe('pause', () => {
  it('pauses a running campaign and says what that means', () => {
    const state = campaign();
    expect(apply(state, { kind: 'pause', by: 'alice', reason: 'freeze' })).toBe('paused: in-flight nodes finish, nothing new starts');
    expect(state.paused).toBe(true);
    expect(state.operatorLog).toEqual([{ at: NOW, action: 'pause by alice', detail: 'freeze' }]);
  });

  it('an anonymous pause is logged without a name', () => {
    const state = campaign();
    apply(state, { kind: 'pause' });
    expect(state.operatorLog).toEqual([{ at: NOW, action: 'pause', detail: undefined }]);
  });

  it('refuses a second pause, and a pause of a campaign that is closing', () => {
    const state = campaign();
    apply(state, { kind: 'pause' });
    expect(refusalOf(state, { kind: 'pause' })).toBe('campaign is already paused');
    for (const phase of ['completed', 'aborted', 'failed'] as const) {
      const closing = campaign();
      closing.phase = phase;
      expect(refusalOf(closing, { kind: 'pause' })).toBe(`campaign is ${phase}: nothing to pause`);
    }
    for (const phase of ['planning', 'awaiting-approval', 'approval-overdue', 'running', 'halted', 'monitoring'] as const) {
      const open = campaign();
      open.phase = phase;
      expect(refusalOf(open, { kind: 'pause' }), phase).toBeUndefined();
    }
  });
});

describe('resume', () => {
  it('refuses when there is nothing to resume', () => {
    expect(refusalOf(campaign(), { kind: 'resume' })).toBe('campaign is not paused or halted: nothing to resume');
  });

  it('resumes a paused campaign', () => {
    const state = campaign();
    apply(state, { kind: 'pause' });
    expect(apply(state, { kind: 'resume', by: 'bob', reason: 'window open' })).toBe('resumed');
    expect(state.paused).toBe(false);
    expect(state.operatorLog[1]).toEqual({ at: NOW, action: 'resume by bob', detail: 'window open' });
    expect(state.acceptedFailures).toEqual({});
  });

  it('resumes a halted cluster by accepting its failures, and says which', () => {
    const state = campaign();
    state.outcomes['web-1'] = 'rolled-back';
    expect(apply(state, { kind: 'resume', by: 'bob' })).toBe('resumed');
    expect(state.acceptedFailures).toEqual({ web: 1 });
    expect(state.operatorLog).toEqual([{ at: NOW, action: 'resume by bob', detail: 'accepted failures in web' }]);
  });

  it('a halt outside the tier being patched is not the campaign halting', () => {
    const state = campaign();
    state.outcomes['batch-1'] = 'rolled-back'; // tier 2 while tier 1 patches
    expect(refusalOf(state, { kind: 'resume' })).toBe('campaign is not paused or halted: nothing to resume');
    state.tierStage = 'monitoring';
    state.outcomes['web-1'] = 'failed';
    expect(refusalOf(state, { kind: 'resume' })).toBe('campaign is not paused or halted: nothing to resume');
  });

  it('resumes past a gate regression, clearing it and logging what was accepted', () => {
    const state = campaign();
    state.gateHalt = 'web: error rate 5.00% vs 1.00% before the tier';
    expect(refusalOf(state, { kind: 'resume' })).toBeUndefined();
    apply(state, { kind: 'resume', reason: 'known noise' });
    expect(state.gateHalt).toBeNull();
    expect(state.operatorLog[0]).toEqual({ at: NOW, action: 'resume', detail: 'known noise; accepted gate: web: error rate 5.00% vs 1.00% before the tier' });
  });

  it('names every halted cluster it accepts, with the gate and the reason', () => {
    const state = campaign();
    state.plan.tiers[0]!.clusters.push(clusterOf('api', 4));
    state.outcomes['web-1'] = 'rolled-back';
    state.outcomes['api-1'] = 'quarantined';
    state.outcomes['api-2'] = 'failed';
    state.gateHalt = 'g';
    state.paused = true;
    apply(state, { kind: 'resume', reason: 'r' });
    expect(state.acceptedFailures).toEqual({ web: 1, api: 2 });
    expect(state.operatorLog[0]!.detail).toBe('r; accepted failures in web, api; accepted gate: g');
  });
});

describe('abort', () => {
  it('requests the abort once', () => {
    const state = campaign();
    expect(apply(state, { kind: 'abort', by: 'carol', reason: 'wrong CVE' })).toBe('aborting: in-flight nodes finish, nothing new starts');
    expect(state.abortRequested).toBe(true);
    expect(state.operatorLog).toEqual([{ at: NOW, action: 'abort by carol', detail: 'wrong CVE' }]);
    expect(refusalOf(state, { kind: 'abort' })).toBe('abort already requested');
  });
});

describe('approve', () => {
  it('needs a name and a reason that are more than blanks', () => {
    const state = campaign();
    expect(refusalOf(state, { kind: 'approve', by: '  ', reason: 'CAB-1' })).toBe('approval needs an approver (--by)');
    expect(refusalOf(state, { kind: 'approve', by: 'alice', reason: ' \t' })).toBe('approval needs a reason (--reason)');
    // What a forged signal can carry: no name or reason at all.
    expect(refusalOf(state, { kind: 'approve' } as unknown as Control)).toBe('approval needs an approver (--by)');
    expect(refusalOf(state, { kind: 'approve', by: 'alice' } as unknown as Control)).toBe('approval needs a reason (--reason)');
  });

  it('lists the approvers when refusing someone else', () => {
    const state = campaign({ approvers: ['carol', 'dave'] });
    expect(refusalOf(state, { kind: 'approve', by: 'alice', reason: 'r' })).toBe("approver not allowed: alice is not in the policy's approvers (carol, dave)");
    expect(refusalOf(state, { kind: 'approve', by: 'dave', reason: 'r' })).toBeUndefined();
  });

  it('knows the tiers and clusters of the plan', () => {
    const state = campaign();
    expect(refusalOf(state, { kind: 'approve', by: 'a', reason: 'r', tier: 3 })).toBe("unknown tier: 3 is not in this campaign's plan");
    expect(refusalOf(state, { kind: 'approve', by: 'a', reason: 'r', tier: 2 })).toBeUndefined();
    expect(refusalOf(state, { kind: 'approve', by: 'a', reason: 'r', tier: 1 })).toBeUndefined();
    expect(refusalOf(state, { kind: 'approve', by: 'a', reason: 'r', cluster: 'cache' })).toBe('unknown cluster: cache');
    expect(refusalOf(state, { kind: 'approve', by: 'a', reason: 'r', cluster: 'db' })).toBeUndefined();
    expect(refusalOf(state, { kind: 'approve', by: 'a', reason: 'r', cluster: 'batch' })).toBeUndefined();
    expect(refusalOf(state, { kind: 'approve', by: 'a', reason: 'r', cluster: '*' })).toBeUndefined();
  });

  it('before planning there is no plan to check a tier or cluster against', () => {
    const state = newCampaignState(alert, 'all', parsePolicy({}), '2026-12-01T00:00:00Z');
    expect(refusalOf(state, { kind: 'approve', by: 'a', reason: 'r', tier: 3 })).toBeUndefined();
    expect(refusalOf(state, { kind: 'approve', by: 'a', reason: 'r', cluster: 'cache' })).toBeUndefined();
  });

  it('records the approval with its scope', () => {
    const state = campaign();
    expect(apply(state, { kind: 'approve', by: 'alice', reason: 'CAB-1', cluster: 'db' })).toBe('approved');
    apply(state, { kind: 'approve', by: 'bob', reason: 'CAB-2', tier: 2 });
    apply(state, { kind: 'approve', by: 'carol', reason: 'CAB-3' });
    expect(state.approvals).toEqual([
      { by: 'alice', reason: 'CAB-1', cluster: 'db', at: NOW },
      { by: 'bob', reason: 'CAB-2', tier: 2, at: NOW },
      { by: 'carol', reason: 'CAB-3', at: NOW },
    ]);
    expect(state.operatorLog.map((e) => [e.action, e.detail])).toEqual([
      ['approve by alice', 'cluster db: CAB-1'],
      ['approve by bob', 'tier 2: CAB-2'],
      ['approve by carol', 'CAB-3'],
    ]);
  });
});

describe('retry', () => {
  it('refuses an unknown node and a node that has not failed', () => {
    const state = campaign();
    expect(refusalOf(state, { kind: 'retry', node: 'ghost' })).toBe("unknown node: ghost is not in this campaign's plan");
    expect(refusalOf(state, { kind: 'retry', node: 'web-2' })).toBe('node web-2 is pending: only a failed node can be retried');
    for (const outcome of ['running', 'patched', 'pending-reboot', 'restart-pending', 'skipped'] as const) {
      state.outcomes['web-2'] = outcome;
      expect(refusalOf(state, { kind: 'retry', node: 'web-2' })).toBe(`node web-2 is ${outcome}: only a failed node can be retried`);
    }
    for (const outcome of ['rolled-back', 'quarantined', 'unhealthy', 'failed'] as const) {
      state.outcomes['web-2'] = outcome;
      expect(refusalOf(state, { kind: 'retry', node: 'web-2' }), outcome).toBeUndefined();
    }
  });

  it('makes the node pending again under a new attempt, forgets its reason, and counts it as no longer accepted', () => {
    const state = campaign();
    state.outcomes['web-1'] = 'patched';
    state.outcomes['web-2'] = 'rolled-back';
    state.nodeReasons['web-2'] = 'verify: 9.7.0 below 9.8.1';
    apply(state, { kind: 'resume' }); // accepts web's failure
    expect(state.acceptedFailures.web).toBe(1);
    expect(apply(state, { kind: 'retry', node: 'web-2', by: 'op' })).toBe('node web-2 will be retried (attempt 2)');
    expect(state.outcomes['web-2']).toBe('pending');
    expect(state.attempts['web-2']).toBe(2);
    expect(state.nodeReasons['web-2']).toBeUndefined();
    expect(state.acceptedFailures.web).toBe(0);
    expect(state.operatorLog.at(-1)).toEqual({ at: NOW, action: 'retry by op', detail: 'web-2' });
    state.outcomes['web-2'] = 'failed';
    expect(apply(state, { kind: 'retry', node: 'web-2' })).toBe('node web-2 will be retried (attempt 3)');
  });

  it('keeps the failures it did not retry accepted', () => {
    const state = campaign({ haltAfterFailures: 3 });
    state.outcomes['web-1'] = 'patched';
    state.outcomes['web-2'] = 'rolled-back';
    state.outcomes['web-3'] = 'failed';
    state.acceptedFailures.web = 2;
    apply(state, { kind: 'retry', node: 'web-2' });
    expect(state.acceptedFailures.web).toBe(1);
  });

  it('never raises what was accepted: a cluster nobody resumed stays at zero', () => {
    const state = campaign({ haltAfterFailures: 3 });
    state.outcomes['web-2'] = 'rolled-back';
    state.outcomes['web-3'] = 'failed';
    apply(state, { kind: 'retry', node: 'web-2' });
    expect(state.acceptedFailures.web).toBe(0);
  });
});

describe('skip', () => {
  it('refuses an unknown node, a quarantined one, and one that is running or done', () => {
    const state = campaign();
    expect(refusalOf(state, { kind: 'skip', node: 'ghost' })).toBe("unknown node: ghost is not in this campaign's plan");
    state.outcomes['web-2'] = 'quarantined';
    expect(refusalOf(state, { kind: 'skip', node: 'web-2' })).toBe('node web-2 is quarantined and out of service: repair it and retry, or abort');
    for (const outcome of ['running', 'patched', 'pending-reboot', 'restart-pending', 'skipped'] as const) {
      state.outcomes['web-2'] = outcome;
      expect(refusalOf(state, { kind: 'skip', node: 'web-2' })).toBe(`node web-2 is ${outcome}: only a pending or failed node can be skipped`);
    }
    for (const outcome of ['pending', 'rolled-back', 'unhealthy', 'failed'] as const) {
      state.outcomes['web-2'] = outcome;
      expect(refusalOf(state, { kind: 'skip', node: 'web-2' }), outcome).toBeUndefined();
    }
    delete state.outcomes['web-2'];
    expect(refusalOf(state, { kind: 'skip', node: 'web-2' })).toBeUndefined();
  });

  it('skips a pending node, saying who, why and what it was', () => {
    const state = campaign();
    expect(apply(state, { kind: 'skip', node: 'web-3', by: 'op', reason: 'decommissioned' })).toBe('node web-3 skipped');
    expect(state.outcomes['web-3']).toBe('skipped');
    expect(state.nodeReasons['web-3']).toBe('skipped by operator op: decommissioned (was pending)');
    expect(state.operatorLog).toEqual([{ at: NOW, action: 'skip by op', detail: 'web-3' }]);
    apply(state, { kind: 'skip', node: 'web-4' });
    expect(state.nodeReasons['web-4']).toBe('skipped by operator (was pending)');
  });

  it('skipping a failed node lowers the accepted failures too', () => {
    const state = campaign();
    state.outcomes['web-1'] = 'patched';
    state.outcomes['web-2'] = 'unhealthy';
    apply(state, { kind: 'resume' });
    expect(state.acceptedFailures.web).toBe(1);
    apply(state, { kind: 'skip', node: 'web-2' });
    expect(state.nodeReasons['web-2']).toBe('skipped by operator (was unhealthy)');
    expect(state.acceptedFailures.web).toBe(0);
  });
});

describe('who may act', () => {
  it('a name of blanks is no name', () => {
    const state = campaign({ operators: ['alice'] });
    expect(refusalOf(state, { kind: 'pause', by: '   ' })).toBe("who is asking? this campaign's policy names who may pause (alice): send your name (--by)");
    expect(refusalOf(state, { kind: 'pause', by: ' alice ' })).toBeUndefined();
  });

  it('approvers, when named, replace the operators for approvals only', () => {
    const state = campaign({ operators: ['alice'], approvers: ['carol'] });
    expect(refusalOf(state, { kind: 'approve', by: 'carol', reason: 'r' })).toBeUndefined();
    expect(refusalOf(state, { kind: 'pause', by: 'carol' })).toBe("operator not allowed: carol may not pause this campaign (the policy's operators are alice)");
  });

  it('with approvers and no operators, anyone may pause but only approvers approve', () => {
    const state = campaign({ approvers: ['carol'] });
    expect(refusalOf(state, { kind: 'pause', by: 'zed' })).toBeUndefined();
    expect(refusalOf(state, { kind: 'approve', by: 'zed', reason: 'r' })).toBe("approver not allowed: zed is not in the policy's approvers (carol)");
  });

  it('a policy from before operators existed lets anyone act', () => {
    const state = campaign();
    delete (state.policy as { operators?: string[] }).operators;
    expect(refusalOf(state, { kind: 'abort', by: 'anyone' })).toBeUndefined();
  });
});
