import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parsePolicy, POLICY_FIELDS, PolicyError, type PolicyInput } from '../../src/domain/policy';
import { POLICY_DEFAULTS, policyWithDefaults } from '../../src/domain/policy-defaults';

describe('the policy check', () => {
  it('fills every default (the values campaigns have always had: running campaigns replay with them)', () => {
    expect(parsePolicy({})).toEqual({
      maxUnavailableFraction: 0.25,
      mode: 'sliding',
      maxNodesInFlight: 0,
      prepareAhead: 0,
      snapshotMaxAge: 900_000,
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
    expect(parsePolicy(null)).toEqual(parsePolicy({}));
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
      'maxUnavailableFraction: expected a fraction of at most 0.25 (the availability cap may be lowered, never raised above 0.25), got 0.3',
      'mode: expected one of "sliding", "waves", got "all-at-once"',
      'haltAfterFailures: expected a whole number ≥ 1, got 0',
      'coolOffMax: expected a duration like 500ms, 5s, 2m, 1h or 3d, or a number of milliseconds (≥ 0), got "soon"',
      'requireApproval: expected a boolean, got "yes"',
      'approveBeforeTiers[0]: expected one of 1, 2, 3, got 4',
      'operators[0]: expected a non-empty string, got ""',
      'maxUnavailable: expected a known field (unknown fields are rejected here: check the spelling), got 0.1',
    ]);
    expect(() => parsePolicy([])).toThrow(PolicyError);
    expect(() => parsePolicy('cap: 0.25')).toThrow(/expected a mapping of policy fields, got "cap: 0.25"/);
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

describe('policyWithDefaults: campaigns started before the check left the workflow bundle', () => {
  const checked: PolicyInput[] = [
    {},
    { coolOffMax: '2m', drainTimeout: 1500, patchPollInterval: '500ms', approvalTimeout: '1h', clusterSettle: ' 3 d', tierMonitoringWindow: 0 },
    { maxUnavailableFraction: 0.1, mode: 'waves', haltScope: 'tier', maxNodesInFlight: 3, requireApproval: true, approveBeforeTiers: [2, 3], approvers: ['alice'], operators: ['bob'] },
    { checkCommand: 'sshd -V 2>&1 | grep -q 9.8', noRebootRoles: [], remediation: 'baseline', onStaleServices: 'record', historyEventsBeforeContinueAsNew: 200 },
    { packageSource: { kind: 'bundle', name: 'b-1', manifest: { 'pool/x.deb': 'A'.repeat(64) } } },
  ];

  it.each(checked)('fills a checked policy exactly as the check did (%j)', (input) => {
    expect(policyWithDefaults(input)).toEqual(parsePolicy(input));
  });

  it('reads the same defaults as the schema, and gives each policy its own lists', () => {
    expect(policyWithDefaults(undefined)).toEqual(parsePolicy(undefined));
    const a = policyWithDefaults({});
    a.noRebootRoles.push('web');
    expect(policyWithDefaults({}).noRebootRoles).toEqual(['database', 'queue', 'cache']);
    expect(POLICY_DEFAULTS.noRebootRoles).toEqual(['database', 'queue', 'cache']);
    expect(parsePolicy({}).noRebootRoles).toEqual(['database', 'queue', 'cache']);
    expect(Object.keys(POLICY_DEFAULTS).sort()).toEqual(POLICY_FIELDS.filter((f) => f !== 'checkCommand').sort());
  });

  it('copies the lists it was given: changing the stored input later does not change the policy', () => {
    const stored = { noRebootRoles: ['database'], approvers: ['alice'] };
    const policy = policyWithDefaults(stored);
    stored.noRebootRoles.push('web');
    stored.approvers.length = 0;
    expect(policy.noRebootRoles).toEqual(['database']);
    expect(policy.approvers).toEqual(['alice']);
  });
});
