/**
 * The report's "Verification findings": nodes whose first verification found something, were
 * restarted or did not end fixed — not every node whose vulnerability check passed (with a
 * `checkCommand` in the policy every node was listed with "nothing"). Both renderers show it.
 */
import { describe, expect, it } from 'vitest';
import { checksPassed, nodesWithFindings } from '../../src/report/derive';
import type { EvidenceChain } from '../../src/report/model';

type EvidenceNode = EvidenceChain['nodes'][number];
const node = (nodeId: string, verification?: EvidenceNode['verification']): EvidenceNode => ({ nodeId, clusterId: 'c', tier: 1, outcome: 'patched', attempts: 1, snapshotIds: [], drift: [], ...(verification && { verification }) });
const fixed = 'fix installed and live';
const check = (exit: number) => `\`sshd -V\` exited ${exit}`;

const nodes = [
  node('plain'),
  node('check-only', { first: 'nothing', restarted: [], final: fixed, check: check(0) }),
  node('restarted', { first: 'sshd still runs the replaced code: restart pending', restarted: ['sshd'], final: fixed, check: check(0) }),
  node('below-fix', { first: 'openssh-server is 9.7.0, needs ≥ 9.8.1', restarted: [], final: 'openssh-server is 9.7.0, needs ≥ 9.8.1' }),
  node('check-failed', { first: 'nothing', restarted: [], final: 'vulnerability check `sshd -V` exited 1', check: check(1) }),
];

describe('verification findings', () => {
  it('lists found, restarted and unfixed nodes, not a check that passed', () => {
    expect(nodesWithFindings(nodes).map((n) => n.nodeId)).toEqual(['restarted', 'below-fix', 'check-failed']);
  });

  it('counts the nodes whose check passed', () => {
    expect(checksPassed(nodes)).toBe(2);
  });
});
