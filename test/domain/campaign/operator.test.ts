/** The operator rules: who may act (policy operators and approvers), and what each control refuses. */
import { describe, expect, it } from 'vitest';
import { applyControl, refusalOf } from '../../../src/domain/campaign/operator';
import { newCampaignState } from '../../../src/domain/campaign/state';
import { parsePolicy, type PolicyInput } from '../../../src/domain/policy';

const alert = { cveId: 'CVE-2024-6387', packages: [{ name: 'openssh-server', fixedVersion: '9.8.1' }], scope: 'all', source: 'generic' as const };
function campaign(policy: PolicyInput = {}) {
  const state = newCampaignState(alert, 'all', parsePolicy(policy), '2026-12-01T00:00:00Z');
  const nodes = ['web-1', 'web-2', 'web-3', 'web-4'];
  state.plan = { cveId: alert.cveId, scope: 'all', tiers: [{ tier: 1, clusters: [{ id: 'web', tier: 1, nodes, canary: 'web-1', rescue: 'web-4', cap: 1, size: 4, needsApproval: false, noReboot: false, reason: 't' }] }], totalNodes: 4, notAffected: [] };
  return state;
}

describe('who may operate a campaign', () => {
  it('anyone, when the policy names no operators', () => {
    expect(refusalOf(campaign(), { kind: 'pause' })).toBeUndefined();
    expect(refusalOf(campaign(), { kind: 'pause', by: 'mallory' })).toBeUndefined();
  });

  it('only the named operators when it does, and a control without a name is asked who it is', () => {
    const state = campaign({ operators: ['alice', 'bob'] });
    expect(refusalOf(state, { kind: 'pause', by: 'alice' })).toBeUndefined();
    expect(refusalOf(state, { kind: 'abort', by: 'mallory' })).toBe('operator not allowed: mallory may not abort this campaign (the policy\'s operators are alice, bob)');
    expect(refusalOf(state, { kind: 'resume' })).toMatch(/^who is asking\? this campaign's policy names who may resume \(alice, bob\)/);
    state.outcomes['web-2'] = 'rolled-back';
    expect(refusalOf(state, { kind: 'retry', node: 'web-2', by: 'eve' })).toMatch(/^operator not allowed: eve may not retry/);
    expect(refusalOf(state, { kind: 'skip', node: 'web-2', by: 'bob' })).toBeUndefined();
  });

  it('approvals are checked against the approvers, or the operators when there are no approvers', () => {
    expect(refusalOf(campaign({ operators: ['alice'] }), { kind: 'approve', by: 'mallory', reason: 'r' })).toMatch(/^operator not allowed: mallory may not approve/);
    expect(refusalOf(campaign({ operators: ['alice'] }), { kind: 'approve', by: 'alice', reason: 'r' })).toBeUndefined();
    expect(refusalOf(campaign({ operators: ['alice'], approvers: ['carol'] }), { kind: 'approve', by: 'alice', reason: 'r' })).toMatch(/^approver not allowed: alice/);
    expect(refusalOf(campaign({ operators: ['alice'], approvers: ['carol'] }), { kind: 'approve', by: 'carol', reason: 'r' })).toBeUndefined();
  });

  it('records who acted in the operator log', () => {
    const state = campaign({ operators: ['alice'] });
    applyControl(state, { kind: 'pause', by: 'alice', reason: 'freeze' }, '2026-12-01T01:00:00Z');
    expect(state.operatorLog).toEqual([{ at: '2026-12-01T01:00:00Z', action: 'pause by alice', detail: 'freeze' }]);
  });
});
