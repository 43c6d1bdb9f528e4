import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parsePolicy, POLICY_FIELDS, PolicyError } from '../../src/domain/policy';

describe('the policy check', () => {
  it('fills every default (the values the zod schema had: running campaigns replay with them)', () => {
    expect(parsePolicy({})).toEqual({
      maxUnavailableFraction: 0.25,
      mode: 'sliding',
      maxNodesInFlight: 0,
      haltAfterFailures: 1,
      haltScope: 'cluster',
      rescueNodeMinClusterSize: 3,
      healthCheckInterval: 1_000,
      healthyChecksRequired: 3,
      coolOffMax: 60_000,
      drainTimeout: 30_000,
      snapshotTimeout: 1_800_000,
      commandTimeout: 300_000,
      restoreTimeout: 1_800_000,
      patchTimeout: 900_000,
      patchPollInterval: 2_000,
      providerRetryWindow: 300_000,
      clusterSettle: 0,
      tierMonitoringWindow: 5_000,
      regressionErrorRateDelta: 0.02,
      regressionLatencyFactor: 1.5,
      remediation: 'targeted',
      packageSource: { kind: 'default' },
      onStaleServices: 'restart',
      onConfigDrift: 'reapply',
      rebootOption: 'RebootIfNeeded',
      noRebootRoles: ['database', 'queue', 'cache'],
      requireApproval: false,
      approveBeforeTiers: [],
      approvalTimeout: 0,
      onApprovalTimeout: 'escalate',
      approvers: [],
      operators: [],
      snapshotRetentionDays: 14,
      historyEventsBeforeContinueAsNew: 8_000,
    });
    expect(parsePolicy(undefined)).toEqual(parsePolicy({}));
  });

  it('reads durations as milliseconds or with a unit', () => {
    const policy = parsePolicy({ coolOffMax: '2m', drainTimeout: 1500, patchPollInterval: '500ms', approvalTimeout: '1h', clusterSettle: ' 3 d' });
    expect([policy.coolOffMax, policy.drainTimeout, policy.patchPollInterval, policy.approvalTimeout, policy.clusterSettle]).toEqual([120_000, 1_500, 500, 3_600_000, 259_200_000]);
  });

  it('refuses every bad field at once, naming the field, what it must be and what it was', () => {
    let error: PolicyError | undefined;
    try {
      parsePolicy({ maxUnavailableFraction: 0.3, mode: 'all-at-once', haltAfterFailures: 0, coolOffMax: 'soon', operators: [''], approveBeforeTiers: [4], requireApproval: 'yes', maxUnavailable: 0.1 });
    } catch (err) {
      error = err as PolicyError;
    }
    expect(error).toBeInstanceOf(PolicyError);
    expect(error!.issues).toEqual([
      'maxUnavailableFraction: may be lowered, never raised above 0.25 (the 25% availability cap) (got 0.3)',
      'mode: must be one of sliding, waves (got "all-at-once")',
      'haltAfterFailures: must be a whole number ≥ 1 (got 0)',
      'coolOffMax: must be a duration like 500ms, 5s, 2m, 1h or 3d, or a number of milliseconds (≥ 0) (got "soon")',
      'requireApproval: must be true or false (got "yes")',
      'approveBeforeTiers: must be a list of tiers (1, 2, 3) (got [4])',
      'operators: must be a list of non-empty names (got [""])',
      'maxUnavailable: not a policy field (check the spelling: the fields and their defaults are in src/domain/policy.ts)',
    ]);
    expect(() => parsePolicy([])).toThrow(PolicyError);
    expect(() => parsePolicy('cap: 0.25')).toThrow(/must be a mapping of fields/);
  });

  it('never lets the cap above 25% or to zero, whatever else the policy says', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: false }), (fraction) => {
        const parsed = (() => {
          try {
            return parsePolicy({ maxUnavailableFraction: fraction });
          } catch {
            return undefined;
          }
        })();
        expect(parsed === undefined || (parsed.maxUnavailableFraction > 0 && parsed.maxUnavailableFraction <= 0.25)).toBe(true);
      }),
    );
  });

  it('gives each policy its own default lists', () => {
    const a = parsePolicy({});
    a.noRebootRoles.push('web');
    expect(parsePolicy({}).noRebootRoles).toEqual(['database', 'queue', 'cache']);
    expect(POLICY_FIELDS).toContain('checkCommand');
    expect('checkCommand' in parsePolicy({})).toBe(false);
  });
});
