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
  // Every default's value: test/domain/policy.test.ts.
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
    expect(issues({ maxUnavailableFraction: 0 })).toEqual(['maxUnavailableFraction: expected a fraction greater than 0, got 0']);
    expect(issues({ maxUnavailableFraction: 0.26 })).toEqual(['maxUnavailableFraction: expected a fraction of at most 0.25 (the availability cap may be lowered, never raised above 0.25), got 0.26']);
    expect(issues({ maxNodesInFlight: -1 })).toEqual([expect.stringMatching(/^maxNodesInFlight: expected .*, got -1$/)]);
    expect(issues({ maxNodesInFlight: 1.5 })).toEqual([expect.stringMatching(/^maxNodesInFlight: expected .*, got 1\.5$/)]);
    expect(issues({ haltAfterFailures: 0 })).toEqual([expect.stringMatching(/^haltAfterFailures: expected .*, got 0$/)]);
    expect(issues({ rescueNodeMinClusterSize: 1 })).toEqual([expect.stringMatching(/^rescueNodeMinClusterSize: /)]);
    expect(issues({ healthyChecksRequired: 0 })).toEqual([expect.stringMatching(/^healthyChecksRequired: /)]);
    expect(issues({ regressionErrorRateDelta: -0.01 })).toEqual([expect.stringMatching(/^regressionErrorRateDelta: /)]);
    expect(issues({ regressionLatencyFactor: 0.99 })).toEqual([expect.stringMatching(/^regressionLatencyFactor: /)]);
    expect(issues({ snapshotRetentionDays: 0 })).toEqual([expect.stringMatching(/^snapshotRetentionDays: /)]);
    expect(issues({ historyEventsBeforeContinueAsNew: 99 })).toEqual([expect.stringMatching(/^historyEventsBeforeContinueAsNew: /)]);
    expect(issues({ historyEventsBeforeContinueAsNew: 10_001 })).toEqual([expect.stringMatching(/^historyEventsBeforeContinueAsNew: /)]);
    expect(issues({ checkCommand: '' })).toEqual([expect.stringMatching(/^checkCommand: /)]);
    expect(issues({ checkCommand: 'x'.repeat(2_001) })).toEqual([expect.stringMatching(/^checkCommand: /)]);
    expect(issues({ operators: [''] })).toEqual([expect.stringMatching(/^operators\[0\]: expected .*, got ""$/)]);
    expect(issues({ approveBeforeTiers: [4] })).toEqual([expect.stringMatching(/^approveBeforeTiers\[0\]: expected .*, got 4$/)]);
    expect(issues({ mode: 'batch' })).toEqual([expect.stringMatching(/^mode: expected .*, got "batch"$/)]);
  });

  it('a bad duration says what a duration looks like', () => {
    expect(issues({ drainTimeout: 'soon' })).toEqual(['drainTimeout: expected a duration like 500ms, 5s, 2m, 1h or 3d, or a number of milliseconds (≥ 0), got "soon"']);
    expect(issues({ drainTimeout: -5 })).toEqual(['drainTimeout: expected a duration like 500ms, 5s, 2m, 1h or 3d, or a number of milliseconds (≥ 0), got -5']);
    expect(issues({ drainTimeout: true })).toEqual([expect.stringMatching(/^drainTimeout: expected .*, got true$/)]);
  });

  it('names every bad field at once, an unknown one, and a policy that is not an object', () => {
    expect(issues({ mode: 'x', haltAfterFailures: 0, maxUnavailable: 2 })).toEqual([
      'mode: expected one of "sliding", "waves", got "x"',
      'haltAfterFailures: expected a whole number ≥ 1, got 0',
      'maxUnavailable: expected a known field (unknown fields are rejected here: check the spelling), got 2',
    ]);
    expect(issues('fast')).toEqual([expect.stringMatching(/^\(payload\): expected .*, got "fast"$/)]);
    expect(issues([])).toEqual([expect.stringMatching(/^\(payload\): expected .*, got an array of 0 items$/)]);
  });

  it('quotes the value inside a list', () => {
    expect(issues({ operators: 'alice' })).toEqual([expect.stringMatching(/^operators: expected .*, got "alice"$/)]);
    expect(issues({ approvers: [null] })).toEqual(['approvers[0]: expected a string, got null']);
    expect(issues({ noRebootRoles: ['db', { x: 1 }] })).toEqual(['noRebootRoles[1]: expected a string, got an object {x}']);
  });
});
