/**
 * An air-gapped campaign on the dev server with the simulator as its own process: the policy's
 * package source is a bundle with a checksum manifest. In cluster `bad` the canary's copy of the
 * bundle is corrupt; cluster `good` has an intact one. Judged from the simulator's monitor and node
 * state — what the fleet saw — and then from the campaign's own record and report.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignStatus, operate, startCampaign } from '../../src/client/campaigns';
import { nodeWorkflowId } from '../../src/domain/ids';
import type { BundleSource } from '../../src/domain/package-source';
import type { MonitorReport, OperationRecord } from '../../src/providers/sim/monitor';
import { collectReport } from '../../src/report/collect';
import { reportDocument } from '../../src/report/render-json';
import { renderMarkdown } from '../../src/report/render-markdown';
import type { CampaignStatus, NodeResult } from '../../src/workflows/types';
import { fastPolicy, testAlert, testFleet, uniqueCve } from '../support/fleet';
import { startKillableSim, type KillableSim } from '../support/sim-process';
import { createHarness, eventually, uniqueTaskQueue, withWorker, type Harness } from '../support/temporal';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const DEB = { path: 'openssh-server_9.8.2-1_amd64.deb', content: 'openssh-server 9.8.2 package bytes' };
const INDEX = { path: 'Packages', content: 'Package: openssh-server\nVersion: 9.8.2\n' };
const BUNDLE: BundleSource = { kind: 'bundle', name: 'openssh-2024-07', manifest: { [DEB.path]: sha256(DEB.content), [INDEX.path]: sha256(INDEX.content) } };

let harness: Harness;
let sim: KillableSim;
let monitor: MonitorReport;
let status: CampaignStatus;
let badResult: NodeResult;
let report: ReturnType<typeof reportDocument>;
let markdown: string;

const ops = (nodeId: string): OperationRecord[] => monitor.operations!.filter((op) => op.nodeId === nodeId);
const nodeOf = (nodeId: string) => status.tiers.flatMap((t) => t.clusters.flatMap((c) => c.nodes)).find((n) => n.id === nodeId);

beforeAll(async () => {
  harness = await createHarness();
  const fleet = testFleet(
    [
      { id: 'bad', size: 4, tier: 1 },
      { id: 'good', size: 4, tier: 1 },
    ],
    [{ kind: 'bundle-corrupt', node: 'bad-01', bundle: BUNDLE.name, file: DEB.path }],
  );
  // The repository offers 9.8.1; only the bundle has 9.8.2, so a node on 9.8.2 was patched from the bundle.
  fleet.bundles = [{ name: BUNDLE.name, files: [{ ...DEB, package: 'openssh-server', version: '9.8.2' }, INDEX] }];
  sim = await startKillableSim(fleet);
  const taskQueue = uniqueTaskQueue('bundle');
  await withWorker(harness, sim.provider, taskQueue, async () => {
    const handle = await startCampaign(harness.client, {
      alert: testAlert(uniqueCve()),
      fleet: { provider: 'sim', scope: 'all' },
      policy: { ...fastPolicy, packageSource: BUNDLE },
      taskQueue,
    });
    status = await eventually(
      'the bad canary to fail and the good cluster to finish',
      async () => {
        const s = await campaignStatus(harness.client, handle.workflowId);
        const good = s.tiers.flatMap((t) => t.clusters).find((c) => c.id === 'good');
        return s.counts.running === 0 && good?.state === 'done' && s.halts.length > 0 ? s : undefined;
      },
      120_000,
      200,
    );
    badResult = (await harness.client.workflow.getHandle(nodeWorkflowId(handle.workflowId, 'bad-01', 1)).result()) as NodeResult;
    const collected = await collectReport(harness.client, handle.workflowId);
    report = reportDocument(collected);
    markdown = renderMarkdown(collected);
    await operate(harness.client, handle.workflowId, 'abort', { by: 'test', reason: 'done checking' });
  });
  monitor = await sim.admin.monitor({ operations: true, timeline: true });
}, 300_000);

afterAll(async () => {
  await sim?.close();
  await harness?.close();
});

describe('package source: a bundle with a checksum manifest', () => {
  it('a corrupted bundle: the node never left service and nothing on it changed — the check is the only thing the fleet saw', async () => {
    expect(ops('bad-01').map((op) => `${op.op}:${op.outcome}`)).toEqual(['checkBundle:failed']);
    expect(ops('bad-01')[0].detail).toContain(`${DEB.path} has sha256`);
    // The monitor's own out-of-service record for the cluster: never above 0.
    expect(monitor.clusters.bad.maxOutOfService).toBe(0);
    expect((monitor.timeline ?? []).filter((change) => change.cluster === 'bad')).toEqual([]);
    const node = await sim.admin.node('bad-01');
    expect(node).toMatchObject({ inService: true, quarantined: false, snapshotCount: 0, commandCount: 0 });
    expect(node.packages).toEqual({ 'openssh-server': '9.6.1', openssl: '3.0.13' });
  });

  it('…fails the node with the checksum reason and halts its cluster: the rest of `bad` is never touched', () => {
    expect(nodeOf('bad-01')).toMatchObject({ outcome: 'failed', reason: expect.stringMatching(/^bundle-check: bundle openssh-2024-07 failed its checksum manifest \(1 of 2 files\)/) });
    const bad = status.tiers.flatMap((t) => t.clusters).find((c) => c.id === 'bad')!;
    expect(bad.state).toBe('halted');
    expect(status.halts).toEqual([expect.objectContaining({ kind: 'node-failed', cluster: 'bad', node: 'bad-01', message: expect.stringContaining('checksum manifest') })]);
    for (const id of ['bad-02', 'bad-03', 'bad-04']) expect(ops(id)).toEqual([]);
  });

  it('…and records which file failed in the node result and the report', () => {
    expect(badResult).toMatchObject({ outcome: 'failed', failedStep: 'bundle-check' });
    expect(badResult.bundleCheck).toEqual({
      bundle: BUNDLE.name,
      ok: false,
      checked: 2,
      mismatches: [{ file: DEB.path, expected: BUNDLE.manifest[DEB.path], actual: expect.stringMatching(/^[0-9a-f]{64}$/) }],
    });
    expect(badResult.timeline.map((s) => `${s.step}:${s.ok}`)).toEqual(['preflight:true', 'bundle-check:false']);
    expect(report.evidence.failures).toEqual([expect.objectContaining({ nodeId: 'bad-01', outcome: 'failed', failedStep: 'bundle-check', reason: expect.stringContaining(`${DEB.path} has sha256`) })]);
    expect(markdown).toContain('**Package source:** bundle openssh-2024-07 (2 files in its checksum manifest');
  });

  it("a good bundle: every node checked it before its drain and was patched with the bundle's version, not the repository's", async () => {
    for (const id of ['good-01', 'good-02', 'good-03', 'good-04']) {
      const names = ops(id).filter((op) => op.outcome === 'ok').map((op) => op.op);
      expect(names.indexOf('checkBundle'), id).toBeGreaterThanOrEqual(0);
      expect(names.indexOf('checkBundle'), id).toBeLessThan(names.indexOf('drain'));
      expect(ops(id).find((op) => op.op === 'patchComplete')?.detail, id).toContain(`installed from bundle ${BUNDLE.name}`);
      const node = await sim.admin.node(id);
      expect(node.packages['openssh-server'], id).toBe('9.8.2');
      expect(node.inService, id).toBe(true);
      expect(nodeOf(id)?.outcome, id).toBe('patched');
    }
    expect(monitor.capViolations).toBe(0);
  });
});
