/**
 * The shape checks every signal and update passes before it touches a campaign's state: what is
 * accepted, what is refused, and the exact reason a refusal records.
 */
import { describe, expect, it } from 'vitest';
import { checkApproval, checkLeaseGranted, checkLeaseHolder, checkNodeControl, checkNodeFinished, checkOperatorNote, MAX_TEXT } from '../../src/domain/messages';

const refusal = (checked: { ok: boolean; reason?: string }) => (checked.ok ? undefined : checked.reason);

describe('pause, resume, abort: { by?, reason? }', () => {
  it('accepts nothing, an empty record, and names and reasons', () => {
    expect(checkOperatorNote(undefined, 'pause')).toEqual({ ok: true, value: {} });
    expect(checkOperatorNote({}, 'pause')).toEqual({ ok: true, value: { by: undefined, reason: undefined } });
    expect(checkOperatorNote({ by: 'alice', reason: 'freeze' }, 'pause')).toEqual({ ok: true, value: { by: 'alice', reason: 'freeze' } });
    expect(checkOperatorNote({ by: null, reason: null }, 'pause')).toEqual({ ok: true, value: { by: undefined, reason: undefined } });
    expect(checkOperatorNote({ reason: 'x'.repeat(MAX_TEXT) }, 'pause')).toEqual({ ok: true, value: { by: undefined, reason: 'x'.repeat(MAX_TEXT) } });
  });

  it('refuses anything else, saying what it got', () => {
    expect(refusal(checkOperatorNote(null, 'pause'))).toBe('pause takes { by?, reason? }, got null');
    expect(refusal(checkOperatorNote([], 'resume'))).toBe('resume takes { by?, reason? }, got an array');
    expect(refusal(checkOperatorNote('stop', 'abort'))).toBe('abort takes { by?, reason? }, got "stop"');
    expect(refusal(checkOperatorNote(7, 'abort'))).toBe('abort takes { by?, reason? }, got number');
    expect(refusal(checkOperatorNote({ by: 7 }, 'pause'))).toBe('pause.by must be a string, got number');
    expect(refusal(checkOperatorNote({ by: 'a', reason: ['x'] }, 'pause'))).toBe('pause.reason must be a string, got an array');
    expect(refusal(checkOperatorNote({ reason: 'x'.repeat(MAX_TEXT + 1) }, 'pause'))).toBe(`pause.reason is longer than ${MAX_TEXT} characters`);
  });

  it('quotes at most 40 characters of a bad string', () => {
    expect(refusal(checkOperatorNote('y'.repeat(100), 'pause'))).toBe(`pause takes { by?, reason? }, got "${'y'.repeat(40)}"`);
  });
});

describe('retry, skip: { node, by?, reason? }', () => {
  it('accepts a node id with an optional note', () => {
    expect(checkNodeControl({ node: 'i-0abc' }, 'retry')).toEqual({ ok: true, value: { node: 'i-0abc', by: undefined, reason: undefined } });
    expect(checkNodeControl({ node: 'web-1', by: 'op', reason: 'gone' }, 'skip')).toEqual({ ok: true, value: { node: 'web-1', by: 'op', reason: 'gone' } });
    expect(checkNodeControl({ node: 'n'.repeat(256) }, 'retry').ok).toBe(true);
    expect(checkNodeControl({ node: 'ä/ü:1' }, 'retry').ok).toBe(true);
  });

  it('refuses a missing, empty, spaced, control-character or overlong id', () => {
    const idRule = 'must be an id (1–256 characters, no spaces or control characters)';
    expect(refusal(checkNodeControl(undefined, 'retry'))).toBe('retry takes { node, by?, reason? }, got undefined');
    expect(refusal(checkNodeControl({}, 'retry'))).toBe(`retry.node ${idRule}, got undefined`);
    expect(refusal(checkNodeControl({ node: '' }, 'skip'))).toBe(`skip.node ${idRule}, got ""`);
    expect(refusal(checkNodeControl({ node: 'a b' }, 'skip'))).toBe(`skip.node ${idRule}, got "a b"`);
    expect(refusal(checkNodeControl({ node: 'a\u0000' }, 'skip'))).toBe(`skip.node ${idRule}, got "a\u0000"`);
    expect(refusal(checkNodeControl({ node: 'a\u007f' }, 'skip'))?.startsWith('skip.node must be an id')).toBe(true);
    expect(refusal(checkNodeControl({ node: 'a\u001f' }, 'skip'))?.startsWith('skip.node must be an id')).toBe(true);
    expect(refusal(checkNodeControl({ node: 'n'.repeat(257) }, 'retry'))?.startsWith('retry.node must be an id')).toBe(true);
    expect(refusal(checkNodeControl({ node: 12 }, 'retry'))).toBe(`retry.node ${idRule}, got number`);
  });

  it('refuses a bad note beside a good node', () => {
    expect(refusal(checkNodeControl({ node: 'web-1', by: 3 }, 'retry'))).toBe('retry.by must be a string, got number');
  });
});

describe('approve: { by, reason, cluster?, tier? }', () => {
  it('accepts a campaign, cluster, blanket or tier approval', () => {
    expect(checkApproval({ by: 'a', reason: 'r' })).toEqual({ ok: true, value: { by: 'a', reason: 'r' } });
    expect(checkApproval({ by: 'a', reason: 'r', cluster: 'db' })).toEqual({ ok: true, value: { by: 'a', reason: 'r', cluster: 'db' } });
    expect(checkApproval({ by: 'a', reason: 'r', cluster: '*' })).toEqual({ ok: true, value: { by: 'a', reason: 'r', cluster: '*' } });
    expect(checkApproval({ by: 'a', reason: 'r', tier: 1 })).toEqual({ ok: true, value: { by: 'a', reason: 'r', tier: 1 } });
    expect(checkApproval({ by: 'a', reason: 'r', tier: 99 })).toEqual({ ok: true, value: { by: 'a', reason: 'r', tier: 99 } });
    expect(checkApproval({ by: 'a', reason: 'r', cluster: null, tier: null })).toEqual({ ok: true, value: { by: 'a', reason: 'r' } });
  });

  it('leaves a missing name or reason empty, for the campaign rules to refuse', () => {
    expect(checkApproval({})).toEqual({ ok: true, value: { by: '', reason: '' } });
  });

  it('refuses what is not an approval', () => {
    expect(refusal(checkApproval(null))).toBe('approve takes { by, reason, cluster?, tier? }, got null');
    expect(refusal(checkApproval('yes', 'approveTier'))).toBe('approveTier takes { by, reason, cluster?, tier? }, got "yes"');
    expect(refusal(checkApproval({ by: 1, reason: 'r' }))).toBe('approve.by must be a string, got number');
    expect(refusal(checkApproval({ by: 'a', reason: 'r', cluster: 'a b' }))).toBe('approve.cluster must be an id (1–256 characters, no spaces or control characters), got "a b"');
    expect(refusal(checkApproval({ by: 'a', reason: 'r', cluster: 5 }))).toBe('approve.cluster must be an id (1–256 characters, no spaces or control characters), got number');
    for (const tier of [0, 100, 1.5, '1', -1]) {
      expect(refusal(checkApproval({ by: 'a', reason: 'r', tier })), String(tier)).toBe(`approve.tier must be a tier number (1, 2, 3…), got ${typeof tier === 'string' ? `"${tier}"` : 'number'}`);
    }
  });
});

describe('nodeFinished: { nodeId, attempt, outcome, reason? }', () => {
  it('accepts every outcome a node may report, with or without a reason', () => {
    for (const outcome of ['patched', 'pending-reboot', 'restart-pending', 'rolled-back', 'quarantined', 'unhealthy', 'failed']) {
      expect(checkNodeFinished({ nodeId: 'web-1', attempt: 1, outcome })).toEqual({ ok: true, value: { nodeId: 'web-1', attempt: 1, outcome } });
    }
    expect(checkNodeFinished({ nodeId: 'web-1', attempt: 3, outcome: 'failed', reason: 'snapshot' })).toEqual({ ok: true, value: { nodeId: 'web-1', attempt: 3, outcome: 'failed', reason: 'snapshot' } });
    expect(checkNodeFinished({ nodeId: 'web-1', attempt: 3, outcome: 'failed', reason: '' })).toEqual({ ok: true, value: { nodeId: 'web-1', attempt: 3, outcome: 'failed' } });
  });

  it('refuses a claim a node cannot make', () => {
    expect(refusal(checkNodeFinished([]))).toBe('nodeFinished takes { nodeId, attempt, outcome, reason? }, got an array');
    expect(refusal(checkNodeFinished({ attempt: 1, outcome: 'patched' }))).toBe('nodeFinished.nodeId must be an id (1–256 characters, no spaces or control characters), got undefined');
    for (const attempt of [0, -1, 1.5, '1', undefined]) {
      expect(refusal(checkNodeFinished({ nodeId: 'n', attempt, outcome: 'patched' })), String(attempt)).toBe(
        `nodeFinished.attempt must be a positive integer, got ${attempt === undefined ? 'undefined' : typeof attempt === 'string' ? '"1"' : 'number'}`,
      );
    }
    for (const outcome of ['pending', 'running', 'skipped', 'PATCHED', undefined]) {
      expect(refusal(checkNodeFinished({ nodeId: 'n', attempt: 1, outcome })), String(outcome)).toBe(
        `nodeFinished.outcome must be one of patched, pending-reboot, restart-pending, rolled-back, quarantined, unhealthy, failed, got ${outcome === undefined ? 'undefined' : `"${outcome}"`}`,
      );
    }
    expect(refusal(checkNodeFinished({ nodeId: 'n', attempt: 1, outcome: 'failed', reason: 4 }))).toBe('nodeFinished.reason must be a string, got number');
  });
});

describe('leases', () => {
  it('leaseGranted: { clusterId }', () => {
    expect(checkLeaseGranted({ clusterId: 'web' })).toEqual({ ok: true, value: { clusterId: 'web' } });
    expect(refusal(checkLeaseGranted('web'))).toBe('leaseGranted takes { clusterId }, got "web"');
    expect(refusal(checkLeaseGranted({ clusterId: '' }))).toBe('leaseGranted.clusterId must be an id (1–256 characters, no spaces or control characters), got ""');
  });

  it('acquireLease and releaseLease: { holder }', () => {
    expect(checkLeaseHolder({ holder: 'campaign:CVE-1:all' }, 'acquireLease')).toEqual({ ok: true, value: { holder: 'campaign:CVE-1:all' } });
    expect(refusal(checkLeaseHolder(null, 'releaseLease'))).toBe('releaseLease takes { holder }, got null');
    expect(refusal(checkLeaseHolder({ holder: 'a b' }, 'acquireLease'))).toBe('acquireLease.holder must be an id (1–256 characters, no spaces or control characters), got "a b"');
  });
});
