/**
 * The demo's summary shows what the report found: a node whose first verification found a problem
 * and how it was handled, and a failed node's compensation step by step (README's promise).
 */
import { describe, expect, it } from 'vitest';
import { demoFindings } from '../../src/embedded/sim-demo';
import type { EvidenceChain } from '../../src/report/model';

const node = (over: Partial<EvidenceChain['nodes'][number]>): EvidenceChain['nodes'][number] => ({ nodeId: 'n', clusterId: 'c', tier: 1, outcome: 'patched', attempts: 1, snapshotIds: [], drift: [], ...over });

describe('demoFindings', () => {
  it('names each verification finding and its end, and each failed node\'s undo steps in order', () => {
    const evidence = {
      nodes: [
        node({ nodeId: 'web-01' }),
        node({ nodeId: 'web-02', verification: { first: 'sshd still runs the replaced code', restarted: ['sshd'], final: 'fix installed and live' } }),
        node({ nodeId: 'db-01', outcome: 'pending-reboot', verification: { first: 'running kernel 6.8.0-31 below the fix', restarted: [], final: 'pending reboot' } }),
      ],
      failures: [
        { nodeId: 'api-03', clusterId: 'api', attempt: 1, outcome: 'rolled-back', failedStep: 'patch', compensation: [{ step: 'restore-config', ok: true }, { step: 'restore-data', ok: true }, { step: 'rejoin', ok: true }] },
        { nodeId: 'api-04', clusterId: 'api', attempt: 1, outcome: 'quarantined', failedStep: 'verify', compensation: [{ step: 'restore-config', ok: false, detail: 'timed out' }] },
        { nodeId: 'api-05', clusterId: 'api', attempt: 1, outcome: 'failed', failedStep: 'snapshot', compensation: [] },
      ],
    } as unknown as EvidenceChain;
    expect(demoFindings(evidence)).toEqual([
      '  verification, web-02: sshd still runs the replaced code; restarted sshd and verified again → fix installed and live',
      '  verification, db-01: running kernel 6.8.0-31 below the fix → pending reboot',
      '  rolled-back, api-03 (failed at patch): restore-config ok → restore-data ok → rejoin ok',
      '  quarantined, api-04 (failed at verify): restore-config FAILED (timed out)',
      '  failed, api-05 (failed at snapshot): nothing to undo',
    ]);
  });
});
