import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { VerifyFindings } from '../../src/domain/findings';
import {
  afterFailure,
  compensationOutcome,
  drainChangedNothing,
  liveOutcome,
  quarantineReason,
  reapplyDrift,
  runVulnerabilityCheck,
  servicesToRestart,
  unhealthyBeforePatch,
  verificationWorthRecording,
  type NodeProgress,
} from '../../src/domain/node-procedure';
import { NODE_STEPS } from '../../src/domain/node-state';

const snapshot = { snapshotIds: ['snap-1'], configRef: 'cfg-1', createdAt: '2026-12-01T00:00:00Z' };
const clean: VerifyFindings = { notFixed: [], drift: [], kernelPending: [], staleServices: [] };

const progressArb = fc.record({ drained: fc.boolean(), patchStarted: fc.boolean(), snapshot: fc.option(fc.constant(snapshot), { nil: undefined }) });
const failureArb = fc.record({ step: fc.constantFrom(...NODE_STEPS), message: fc.string({ maxLength: 40 }), providerUnreachable: fc.boolean() });
const findingsArb: fc.Arbitrary<VerifyFindings> = fc.record({
  notFixed: fc.array(fc.record({ name: fc.constantFrom('openssl', 'openssh-server'), installed: fc.option(fc.constant('1.0'), { nil: null }), fixedVersion: fc.constant('2.0') }), { maxLength: 2 }),
  drift: fc.array(fc.constantFrom('/etc/ssh/sshd_config', '/etc/app.conf'), { maxLength: 2 }),
  kernelPending: fc.option(fc.array(fc.record({ name: fc.constant('linux-image-generic'), installed: fc.constant('6.8'), running: fc.constant('6.5'), fixedVersion: fc.constant('6.8') }), { maxLength: 1 }), { nil: undefined }),
  staleServices: fc.option(fc.array(fc.constantFrom('sshd', 'nginx'), { maxLength: 2 }), { nil: undefined }),
  check: fc.option(fc.record({ command: fc.constant('probe'), exitCode: fc.constantFrom(0, 1), output: fc.constant('') }), { nil: undefined }),
});

describe('after a failure', () => {
  it('undoes nothing on a node that was never drained, and fails it untouched', () => {
    fc.assert(
      fc.property(progressArb, failureArb, (progress, failure) => {
        const next = afterFailure({ ...progress, drained: false }, failure);
        expect(next.kind).toBe('untouched');
        expect(next).toMatchObject({ outcome: 'failed' });
        expect(next.reason.startsWith(`${failure.step}: `)).toBe(true);
        expect(next.reason.includes('provider unreachable, node untouched')).toBe(failure.providerUnreachable);
      }),
    );
  });

  it('compensates every drained node: config before data, only when the patch may have run and a snapshot exists, then rejoin and confirm', () => {
    fc.assert(
      fc.property(progressArb, failureArb, (progress, failure) => {
        const next = afterFailure({ ...progress, drained: true }, failure);
        if (next.kind !== 'compensate') throw new Error('a drained node is always compensated');
        const restores = progress.patchStarted && progress.snapshot !== undefined;
        expect(next.steps).toEqual(restores ? ['restore-config', 'restore-data', 'rejoin', 'confirm-healthy'] : ['rejoin', 'confirm-healthy']);
        // The reason a rolled-back node carries names the step and its failure, never the provider wording of an untouched node.
        expect(next.reason).toBe(`${failure.step}: ${failure.message}`);
      }),
    );
  });

  it('is exhaustive over how far the procedure got', () => {
    const seen = new Set<string>();
    for (const drained of [false, true])
      for (const patchStarted of [false, true])
        for (const snap of [undefined, snapshot]) {
          const progress: NodeProgress = { drained, patchStarted, snapshot: snap };
          const next = afterFailure(progress, { step: 'patch', message: 'exit 100' });
          seen.add(next.kind === 'untouched' ? 'untouched' : next.steps.join(','));
        }
    expect([...seen].sort()).toEqual(['rejoin,confirm-healthy', 'restore-config,restore-data,rejoin,confirm-healthy', 'untouched']);
  });

  it('quarantines when compensation fails, saying both failures', () => {
    expect(compensationOutcome(true)).toBe('rolled-back');
    expect(compensationOutcome(false)).toBe('quarantined');
    expect(quarantineReason({ step: 'verify', message: 'openssl is 1.0' }, 'restore-data: volume gone')).toBe(
      'verify failed (openssl is 1.0); rollback failed (restore-data: volume gone): kept out of service for an operator',
    );
  });

  it('treats only a drain held by someone else as a drain that changed nothing', () => {
    expect(drainChangedNothing('Provider.conflict')).toBe(true);
    for (const type of [undefined, 'Provider.timeout', 'Provider.deadline', 'ProviderUnreachable']) expect(drainChangedNothing(type)).toBe(false);
  });

  it('leaves a node unhealthy before patching alone, saying why', () => {
    expect(unhealthyBeforePatch('502 from /health')).toEqual({ outcome: 'unhealthy', failedStep: 'preflight', reason: 'unhealthy before patching: 502 from /health' });
    expect(unhealthyBeforePatch(undefined).reason).toBe('unhealthy before patching: failed its health check');
  });
});

describe('verification', () => {
  it('re-applies drift only when the policy says so', () => {
    expect(reapplyDrift({ ...clean, drift: ['/etc/x'] }, { onConfigDrift: 'reapply' })).toBe(true);
    expect(reapplyDrift({ ...clean, drift: ['/etc/x'] }, { onConfigDrift: 'fail' })).toBe(false);
    expect(reapplyDrift(clean, { onConfigDrift: 'reapply' })).toBe(false);
  });

  it('restarts stale services (by default) and runs the check only on a node that still passes', () => {
    fc.assert(
      fc.property(findingsArb, fc.constantFrom<'restart' | 'record' | undefined>('restart', 'record', undefined), fc.option(fc.constant('probe'), { nil: undefined }), (findings, onStaleServices, checkCommand) => {
        const policy = { onConfigDrift: 'reapply' as const, onStaleServices, checkCommand };
        const blocked = findings.notFixed.length > 0 || findings.drift.length > 0 || (findings.check !== undefined && findings.check.exitCode !== 0);
        const restart = servicesToRestart(findings, policy);
        expect(restart).toEqual(!blocked && onStaleServices !== 'record' ? (findings.staleServices ?? []) : []);
        expect(runVulnerabilityCheck(findings, policy)).toBe(!blocked ? checkCommand : undefined);
      }),
    );
  });

  it('records verification only when there was something to say', () => {
    expect(verificationWorthRecording(clean, clean, undefined)).toBe(false);
    expect(verificationWorthRecording({ ...clean, drift: ['/etc/x'] }, clean, undefined)).toBe(true);
    expect(verificationWorthRecording(clean, clean, ['sshd'])).toBe(true);
    expect(verificationWorthRecording(clean, { ...clean, check: { command: 'probe', exitCode: 0, output: '' } }, undefined)).toBe(true);
  });

  it('calls a node patched only when the fix is live: a pending reboot first, then services still on the old code', () => {
    expect(liveOutcome(clean)).toEqual({ outcome: 'patched' });
    expect(liveOutcome({ ...clean, staleServices: ['sshd'] })).toMatchObject({ outcome: 'restart-pending', reason: expect.stringMatching(/sshd still runs the replaced code/) });
    const kernel = { ...clean, staleServices: ['sshd'], kernelPending: [{ name: 'linux-image-generic', installed: '6.8', running: '6.5', fixedVersion: '6.8' }] };
    expect(liveOutcome(kernel)).toMatchObject({ outcome: 'pending-reboot', reason: expect.stringMatching(/until a maintenance reboot$/) });
  });

  it('says exactly what keeps the fix from being live, and nothing else', () => {
    const kernelPending = [{ name: 'linux-image-generic', installed: '6.8', running: '6.5', fixedVersion: '6.8' }];
    // A stale service is not mentioned while the kernel needs a reboot: the reboot restarts it too.
    expect(liveOutcome({ ...clean, kernelPending, staleServices: ['sshd'] })).toEqual({
      outcome: 'pending-reboot',
      reason: 'linux-image-generic 6.8 is installed but kernel 6.5 is running (needs ≥ 6.8): pending reboot: the node stays vulnerable until a maintenance reboot',
    });
    expect(liveOutcome({ ...clean, staleServices: ['sshd', 'nginx'] })).toEqual({ outcome: 'restart-pending', reason: 'sshd, nginx still run the replaced code: restart pending' });
  });

  it('reads findings recorded before kernel and service checks existed as live', () => {
    expect(liveOutcome({ notFixed: [], drift: [] })).toEqual({ outcome: 'patched' });
  });
});
