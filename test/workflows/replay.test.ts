/**
 * Replays committed histories against today's workflow code: a change that would break running
 * campaigns (non-determinism) fails here. Versioned changes use `patched()`; re-record with
 * `tsx scripts/record-histories.ts` only after such a deliberate change.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { bundleWorkflows } from '../../src/worker';

const dir = path.join(import.meta.dirname, '..', 'histories');
const index = JSON.parse(readFileSync(path.join(dir, 'index.json'), 'utf8')) as Record<string, string>;
const files = readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'index.json');

describe('replay of committed histories', () => {
  it('has histories to replay, including a campaign with a rollback and an operator resume', () => {
    for (const version of ['v1', 'v2']) {
      expect(files).toEqual(expect.arrayContaining([`${version}-campaign-rollback-resume.json`, `${version}-node-patched.json`, `${version}-node-rolled-back.json`]));
    }
    // v2 is the first version with cluster leases: its campaign history carries the patch marker.
    const v2 = readFileSync(path.join(dir, 'v2-campaign-rollback-resume.json'), 'utf8');
    expect(v2).toContain('core_patch');
    expect(v2).toContain('requestClusterLease');
    expect(readFileSync(path.join(dir, 'v1-campaign-rollback-resume.json'), 'utf8')).not.toContain('requestClusterLease');
    const campaign = readFileSync(path.join(dir, 'v1-campaign-rollback-resume.json'), 'utf8');
    expect(campaign).toContain('resumeCampaign');
    expect(campaign).toContain('nodeFinished');
  });

  it('replays every history deterministically with the current workflow code', async () => {
    const workflowBundle = await bundleWorkflows();
    for (const file of files) {
      const history = historyFromJSON(JSON.parse(readFileSync(path.join(dir, file), 'utf8')));
      expect(index[file], `${file} is listed in index.json`).toBeDefined();
      await expect(Worker.runReplayHistory({ workflowBundle }, history, index[file]), file).resolves.toBeUndefined();
    }
  });
});
