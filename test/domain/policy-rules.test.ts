/**
 * The policy schema (src/domain/policy.ts): every default, every bound, and the error that names
 * the field, the value and what was expected.
 */
import { describe, expect, it } from 'vitest';
import { parsePolicy, PolicyError } from '../../src/domain/policy';

/** The error's issues, one line per bad field. */
function issues(input: unknown): string[] {
  try {
    parsePolicy(input);
  } catch (err) {
    expect(err).toBeInstanceOf(PolicyError);
    expect((err as PolicyError).name).toBe('PolicyError');
    expect((err as Error).message).toBe(`invalid policy: ${(err as PolicyError).issues.join('; ')}`);
    return (err as PolicyError).issues;
  }
  throw new Error(`accepted ${JSON.stringify(input)}`);
}

describe('defaults', () => {
  it('an empty policy is exactly this', () => {
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

  it('durations as strings or milliseconds', () => {
    expect(parsePolicy({ coolOffMax: '2m', drainTimeout: 1500, checkCommand: 'sshd -V' })).toMatchObject({ coolOffMax: 120_000, drainTimeout: 1_500, checkCommand: 'sshd -V' });
  });

  it('every enumerated choice is accepted', () => {
    const p = parsePolicy({
      mode: 'waves',
      haltScope: 'campaign',
      remediation: 'baseline',
      onStaleServices: 'record',
      onConfigDrift: 'fail',
      rebootOption: 'NoReboot',
      onApprovalTimeout: 'abort',
      approveBeforeTiers: [1, 2, 3],
    });
    expect(p).toMatchObject({ mode: 'waves', haltScope: 'campaign', remediation: 'baseline', onStaleServices: 'record', onConfigDrift: 'fail', rebootOption: 'NoReboot', onApprovalTimeout: 'abort', approveBeforeTiers: [1, 2, 3] });
    expect(parsePolicy({ haltScope: 'tier' }).haltScope).toBe('tier');
  });
});

describe('bounds', () => {
  it('accepts the edges', () => {
    expect(() =>
      parsePolicy({
        maxUnavailableFraction: 0.25,
        maxNodesInFlight: 0,
        haltAfterFailures: 1,
        rescueNodeMinClusterSize: 2,
        healthyChecksRequired: 1,
        regressionErrorRateDelta: 0,
        regressionLatencyFactor: 1,
        snapshotRetentionDays: 1,
        historyEventsBeforeContinueAsNew: 100,
        checkCommand: 'x'.repeat(2_000),
        operators: ['a'],
      }),
    ).not.toThrow();
    expect(parsePolicy({ maxUnavailableFraction: 0.01, historyEventsBeforeContinueAsNew: 10_000 })).toMatchObject({ maxUnavailableFraction: 0.01, historyEventsBeforeContinueAsNew: 10_000 });
  });

  it('refuses past them, each field named with its value', () => {
    expect(issues({ maxUnavailableFraction: 0 })).toEqual(['maxUnavailableFraction: must be greater than 0 (got 0)']);
    expect(issues({ maxUnavailableFraction: 0.26 })).toEqual(['maxUnavailableFraction: may be lowered, never raised above 0.25 (the 25% availability cap) (got 0.26)']);
    expect(issues({ maxNodesInFlight: -1 })).toEqual([expect.stringMatching(/^maxNodesInFlight: .* \(got -1\)$/)]);
    expect(issues({ maxNodesInFlight: 1.5 })).toEqual([expect.stringMatching(/^maxNodesInFlight: .* \(got 1\.5\)$/)]);
    expect(issues({ haltAfterFailures: 0 })).toEqual([expect.stringMatching(/^haltAfterFailures: .* \(got 0\)$/)]);
    expect(issues({ rescueNodeMinClusterSize: 1 })).toEqual([expect.stringMatching(/^rescueNodeMinClusterSize: /)]);
    expect(issues({ healthyChecksRequired: 0 })).toEqual([expect.stringMatching(/^healthyChecksRequired: /)]);
    expect(issues({ regressionErrorRateDelta: -0.01 })).toEqual([expect.stringMatching(/^regressionErrorRateDelta: /)]);
    expect(issues({ regressionLatencyFactor: 0.99 })).toEqual([expect.stringMatching(/^regressionLatencyFactor: /)]);
    expect(issues({ snapshotRetentionDays: 0 })).toEqual([expect.stringMatching(/^snapshotRetentionDays: /)]);
    expect(issues({ historyEventsBeforeContinueAsNew: 99 })).toEqual([expect.stringMatching(/^historyEventsBeforeContinueAsNew: /)]);
    expect(issues({ historyEventsBeforeContinueAsNew: 10_001 })).toEqual([expect.stringMatching(/^historyEventsBeforeContinueAsNew: /)]);
    expect(issues({ checkCommand: '' })).toEqual([expect.stringMatching(/^checkCommand: /)]);
    expect(issues({ checkCommand: 'x'.repeat(2_001) })).toEqual([expect.stringMatching(/^checkCommand: /)]);
    expect(issues({ operators: [''] })).toEqual([expect.stringMatching(/^operators\.0: .* \(got ""\)$/)]);
    expect(issues({ approveBeforeTiers: [4] })).toEqual([expect.stringMatching(/^approveBeforeTiers\.0: .* \(got 4\)$/)]);
    expect(issues({ mode: 'batch' })).toEqual([expect.stringMatching(/^mode: .* \(got "batch"\)$/)]);
  });

  it('a bad duration says what a duration looks like', () => {
    expect(issues({ drainTimeout: 'soon' })).toEqual(['drainTimeout: duration: expected a duration like 500ms, 5s, 2m, 1h or 3d, got "soon" (got "soon")']);
    expect(issues({ drainTimeout: -5 })).toEqual(['drainTimeout: duration: expected a non-negative duration, got -5 (got -5)']);
    expect(issues({ drainTimeout: true })).toEqual([expect.stringMatching(/^drainTimeout: .* \(got true\)$/)]);
  });

  it('names every bad field at once, an unknown one, and a policy that is not an object', () => {
    expect(issues({ mode: 'x', haltAfterFailures: 0, maxUnavailable: 2 })).toEqual([
      'mode: Invalid option: expected one of "sliding"|"waves" (got "x")',
      'haltAfterFailures: Too small: expected number to be >=1 (got 0)',
      '(policy): Unrecognized key: "maxUnavailable" (got {"mode":"x","haltAfterFailures":0,"maxUnavailable":2})',
    ]);
    expect(issues('fast')).toEqual([expect.stringMatching(/^\(policy\): .* \(got "fast"\)$/)]);
    expect(issues([])).toEqual([expect.stringMatching(/^\(policy\): .* \(got \[\]\)$/)]);
  });

  it('quotes the value inside a list', () => {
    expect(issues({ operators: 'alice' })).toEqual([expect.stringMatching(/^operators: .* \(got "alice"\)$/)]);
    expect(issues({ approvers: [null] })).toEqual(['approvers.0: Invalid input: expected string, received null (got null)']);
    expect(issues({ noRebootRoles: ['db', { x: 1 }] })).toEqual(['noRebootRoles.1: Invalid input: expected string, received object (got {"x":1})']);
  });
});
