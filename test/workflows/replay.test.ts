/**
 * Replays committed histories against today's workflow code: a change that would break running
 * campaigns (non-determinism) fails here. Versioned changes use `patched()`; re-record with
 * `tsx scripts/record-histories.ts` only after such a deliberate change.
 *
 * Payload encryption: the committed histories are plain (the recorder decodes them); a worker with the
 * codec replays them unchanged (plain payloads pass through), and an encrypted recording replays once
 * decoded — the codec runs outside the workflow sandbox, so decoding first is all replay needs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { bundleWorkflows } from '../../src/worker';
import { dataConverterFor, EncryptionCodec } from '../../src/temporal/codec';
import { decodeHistory, encodeHistory } from '../../src/temporal/history-codec';
import { generateKeyEntry, parseKeyring } from '../../src/temporal/keys';
import { legacyControlUpdates, nodeFinishedSignal, PATCH_CAMPAIGN_WORKFLOW, PATCH_NODE_WORKFLOW } from '../../src/workflows/messages';

const dir = path.join(import.meta.dirname, '..', 'histories');
const index = JSON.parse(readFileSync(path.join(dir, 'index.json'), 'utf8')) as Record<string, string>;
const files = readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'index.json');

/** Every marker of a committed history (patches, local activities), its payloads decoded to text. */
function markersOf(file: string): string[] {
  const history = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as {
    events: { markerRecordedEventAttributes?: { markerName: string; details?: Record<string, { payloads?: { data?: string }[] }> } }[];
  };
  return history.events.flatMap((event) => {
    const marker = event.markerRecordedEventAttributes;
    if (!marker) return [];
    const payloads = Object.values(marker.details ?? {}).flatMap((d) => d.payloads ?? []);
    return [`${marker.markerName} ${payloads.map((p) => Buffer.from(p.data ?? '', 'base64').toString('utf8')).join(' ')}`];
  });
}

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
    // v4 is the first version that checks a lease grant against the lease workflow (and decides only at
    // workflow-task boundaries): its campaign history carries the check's activity.
    expect(readFileSync(path.join(dir, 'v4-campaign-rollback-resume.json'), 'utf8')).toContain('clusterLeaseHolder');
    expect(readFileSync(path.join(dir, 'v3-campaign-rollback-resume.json'), 'utf8')).not.toContain('clusterLeaseHolder');
    // v5 is the first lease workflow that checks a release against the releasing campaign's own state
    // (patched('verified-lease-release')); v4's freed the cluster on the signal alone.
    const v5Lease = readFileSync(path.join(dir, 'v5-lease-granted-released.json'), 'utf8');
    expect(v5Lease).toContain('core_patch');
    expect(v5Lease).toContain('campaignLeaseState');
    expect(readFileSync(path.join(dir, 'v4-lease-granted-released.json'), 'utf8')).not.toContain('campaignLeaseState');
    // v6 is the first campaign whose policy is checked outside the workflow bundle
    // (patched('policy-checked-outside-the-bundle')): the `checkPolicy` activity, before the plan.
    // Earlier campaigns replay the unpatched branch, which fills the defaults without checking.
    const v6 = markersOf('v6-campaign-rollback-resume.json');
    expect(v6[0]).toMatch(/^core_patch .*"id":"policy-checked-outside-the-bundle"/);
    expect(readFileSync(path.join(dir, 'v6-campaign-rollback-resume.json'), 'utf8')).toMatch(/"activityType":\s*\{\s*"name":\s*"checkPolicy"/);
    for (const older of files.filter((f) => /^v[1-5]-campaign/.test(f))) expect(markersOf(older).join('\n'), older).not.toMatch(/checkPolicy|policy-checked-outside-the-bundle/);
    // v7 is the first node saga that does not signal `nodeFinished` to a campaign that takes its
    // result instead (input.reportBySignal false); earlier ones did, and replay the signalling branch.
    for (const [file, signals] of [['v4-node-patched.json', 1], ['v4-node-rolled-back.json', 1], ['v7-node-patched.json', 0], ['v7-node-rolled-back.json', 0]] as const) {
      const events = (JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as { events: { eventType: string }[] }).events;
      expect(events.filter((e) => e.eventType === 'EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED'), file).toHaveLength(signals);
    }
    const campaign = readFileSync(path.join(dir, 'v1-campaign-rollback-resume.json'), 'utf8');
    // Recorded before the operator updates took their signals' stem: the old name must stay registered.
    expect(campaign).toContain(`"name": "${legacyControlUpdates.resume.name}"`);
    expect(campaign).toContain(nodeFinishedSignal.name);
    // The workflow-type constants clients use are the names recorded here, and replay (below) finds
    // the bundle's functions by these names: a renamed function or constant fails one of the two.
    expect(campaign).toContain(`"name": "${PATCH_CAMPAIGN_WORKFLOW}"`);
    expect(readFileSync(path.join(dir, 'v4-node-patched.json'), 'utf8')).toContain(`"name": "${PATCH_NODE_WORKFLOW}"`);
  });

  it('replays every history deterministically with the current workflow code', async () => {
    const workflowBundle = await bundleWorkflows();
    // Workflow code checks its messages and its policy with plain domain functions: no schema library
    // in the bundle, whose modules every workflow execution evaluates anew.
    expect(workflowBundle.code).not.toMatch(/node_modules\/zod\//);
    for (const file of files) {
      const history = historyFromJSON(JSON.parse(readFileSync(path.join(dir, file), 'utf8')));
      expect(index[file], `${file} is listed in index.json`).toBeDefined();
      await expect(Worker.runReplayHistory({ workflowBundle }, history, index[file]), file).resolves.toBeUndefined();
    }
  });

  it('replays an encrypted recording with the codec, decoded first, and not without it', async () => {
    const workflowBundle = await bundleWorkflows();
    const keyring = parseKeyring(generateKeyEntry('replay'), 'a test key');
    const codec = new EncryptionCodec(keyring);
    for (const file of files.filter((f) => f.startsWith('v2-'))) {
      const plain = historyFromJSON(JSON.parse(readFileSync(path.join(dir, file), 'utf8')));
      const encrypted = await encodeHistory(plain, codec);
      expect(JSON.stringify(encrypted.events)).not.toContain('openssh-server');
      // A replay worker with the codec decodes as it goes (as the live worker did) …
      await expect(Worker.runReplayHistory({ workflowBundle, dataConverter: dataConverterFor(keyring) }, encrypted, index[file]), file).resolves.toBeUndefined();
      // … or the history is decoded first and replayed as a plain one.
      await expect(Worker.runReplayHistory({ workflowBundle }, await decodeHistory(encrypted, codec), index[file]), file).resolves.toBeUndefined();
      // The control: without the key, replay cannot read the inputs.
      await expect(Worker.runReplayHistory({ workflowBundle }, encrypted, index[file]), file).rejects.toThrow();
    }
    // Plain histories replay on a worker that encrypts (plain payloads pass through the codec).
    const [first] = files;
    await expect(Worker.runReplayHistory({ workflowBundle, dataConverter: dataConverterFor(keyring) }, historyFromJSON(JSON.parse(readFileSync(path.join(dir, first), 'utf8'))), index[first])).resolves.toBeUndefined();
  });
});
