import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseAlert } from '../../src/domain/alerts';
import type { NormalizedAlert } from '../../src/domain/alert';
import { lookupKev, parseKevCatalogText, type KevCatalog } from '../../src/domain/enrichment/kev';
import type { InventoryAsset } from '../../src/domain/inventory';
import { parseInventoryText } from '../../src/domain/inventory-file';
import { planNodeIds, type CampaignPlan } from '../../src/domain/plan';
import { createPlanner, NOT_AFFECTED_LISTED_MAX, planCampaign } from '../../src/domain/planner';
import { parsePolicy, type Policy } from '../../src/domain/policy';
import { sequentialEstate } from '../support/synthetic-inventory';

const alertsDir = new URL('../fixtures/alerts/', import.meta.url);
const inventoryText = readFileSync(new URL('../fixtures/inventory/demo-fleet.yaml', import.meta.url), 'utf8');
const kevText = readFileSync(new URL('../../data/kev/known_exploited_vulnerabilities.json', import.meta.url), 'utf8');
let inventory: InventoryAsset[];
let kev: KevCatalog;
let policy: Policy;
// Parsed in each test, never while the file loads: Stryker counts code run outside a test as
// static and runs every test for each of its mutants (docs/testing.md, "Mutation testing").
beforeEach(() => {
  inventory = parseInventoryText(inventoryText);
  kev = parseKevCatalogText(kevText);
  policy = parsePolicy({});
});
const now = new Date('2025-08-25T14:34:00Z');
const alertOf = (file: string): NormalizedAlert => parseAlert(readFileSync(new URL(file, alertsDir))).alerts[0];
const plan = (file: string, context = { now, kev }) => planCampaign(alertOf(file), inventory, policy, context);
const clusters = (p: CampaignPlan) => p.tiers.flatMap((t) => t.clusters);

describe('plans for the fixtures on the demo fleet (golden)', () => {
  // Every fixture; those without an alert (closed, no fix) have no plan, and no golden file.
  const fixtures = readdirSync(alertsDir).filter((f) => /\.(json|ndjson)$/.test(f));

  it.each(fixtures)('%s', async (file) => {
    const golden = `./__golden__/plans/${file.replace(/\.ndjson$/, '.json')}`;
    if (parseAlert(readFileSync(new URL(file, alertsDir))).alerts.length === 0) {
      expect(existsSync(new URL(golden, import.meta.url)), `${golden} for a fixture without an alert`).toBe(false);
      return;
    }
    await expect(`${JSON.stringify(plan(file), null, 2)}\n`).toMatchFileSnapshot(golden);
  });
});

describe('the ranking planner', () => {
  it('Log4Shell behind an internet-facing ALB: act now, with a reason a human can check', () => {
    const p = plan('inspector2-ec2-log4shell.json');
    expect(p.urgency).toBe('act-now');
    expect(p.deadline).toBe('2025-08-28T14:34:00.000Z');
    expect(clusters(p)).toHaveLength(1);
    const [api] = clusters(p);
    expect(api).toMatchObject({ id: 'api-prod', tier: 1, urgency: 'act-now', canary: 'i-0a910000000000001', rescue: 'i-0a910000000000004', cap: 1, size: 4, needsApproval: false });
    expect(api.reason).toBe(
      'tier 1: behind internet-facing ALB api-public; KEV-listed since 2021-12-10, ransomware use known; RCE, network, no auth; ' +
        'act now: patch by 2025-08-28 + forensic triage; 4 nodes below liblog4j2-java 2.15.0-1~deb11u1; 2 dependent services, medium-sensitivity data',
    );
    expect(p.assessment).toMatchObject({ exploitation: 'active', automatable: true, technicalImpact: 'total', remoteCodeExecution: true, kev: { dateAdded: '2021-12-10', knownRansomwareUse: true } });
  });

  it('regreSSHion across the fleet: tiers in order, the amqp block together, each release against its own fix', () => {
    const p = plan('generic-regresshion.json');
    expect(p.tiers.map((t) => t.tier)).toEqual([1, 2, 3]);
    expect(clusters(p).map((c) => [c.id, c.tier, c.urgency, c.block])).toEqual([
      ['web-prod', 1, '3-days', undefined],
      ['edge-lb', 1, '3-days', undefined],
      ['auth-prod', 1, '14-days', undefined],
      ['db-prod', 2, '14-days', undefined],
      ['queue-prod', 2, '14-days', 'b1'],
      ['worker-prod', 2, '14-days', 'b1'],
      ['staging-web', 3, '14-days', undefined],
      ['monitoring', 3, '14-days', undefined],
    ]);
    // Ubuntu 24.04 nodes are compared with the 24.04 fix, not the 22.04 one.
    expect(clusters(p).find((c) => c.id === 'staging-web')!.reason).toContain('2 nodes below openssh-server 1:9.6p1-3ubuntu13.3');
    // worker-prod is tier 3 on its own; its patch group with queue-prod pulls it into tier 2, after the queue it depends on.
    expect(clusters(p).find((c) => c.id === 'worker-prod')!.reason).toMatch(/^tier 2: moves with queue-prod \(patch group amqp\), itself tier 3 \(worker, internal, low-sensitivity data\);/);
    expect(p.notAffected).toContainEqual({ id: 'i-0eb00000000000006', reason: 'already fixed: openssh-server 1:8.9p1-3ubuntu0.10' });
    expect(planNodeIds(p)).not.toContain('i-0eb00000000000006');
    const monitoring = clusters(p).find((c) => c.id === 'monitoring')!;
    expect(monitoring.needsApproval).toBe(true);
    expect(monitoring.reason).toMatch(/single node: needs approval$/);
    expect(clusters(p).find((c) => c.id === 'db-prod')!.noReboot).toBe(true);
    expect(p.summary).toBe(
      'CVE-2024-6387: public exploit available, not KEV-listed (EPSS 0.38); total impact (C/I/A high), network, no auth; most urgent: within 3 days (by 2025-08-28); 22 nodes in 8 clusters across 3 tiers',
    );
  });

  it('says when a node is only "fixed" against another release\'s fix', () => {
    const p = plan('inspector2-ec2-regresshion.json');
    expect(p.notAffected).toContainEqual({
      id: 'i-05a90000000000001',
      reason: 'already fixed: openssh-server 1:9.6p1-3ubuntu13 (newer upstream than the only fixed version given, 1:8.9p1-3ubuntu0.10: confirm for its release)',
    });
  });

  it('compares each node with the fixed version of its own release (Security Hub envelope)', () => {
    const p = plan('securityhub-imported-envelope.json');
    expect(clusters(p).find((c) => c.id === 'staging-web')!.reason).toContain('2 nodes below openssh-server 1:9.6p1-3ubuntu13.3');
    expect(planNodeIds(p)).not.toContain('i-0c100000000000001'); // Amazon Linux: the Ubuntu advisory does not apply
  });

  it('without context: no KEV data and no deadline dates, never a guess', () => {
    const p = planCampaign(alertOf('generic-log4shell.json'), inventory, policy);
    expect(p.assessment?.exploitation).toBe('none');
    expect(p.urgency).toBe('3-days'); // exposed + automatable + total impact
    expect(p.deadline).toBeUndefined();
    expect(clusters(p)[0].deadline).toBeUndefined();
    expect(clusters(p)[0].reason).toContain('within 3 days;');
  });

  it('createPlanner binds context; a per-call context wins', () => {
    const bound = createPlanner({ kev: [lookupKev(kev, 'CVE-2021-44228')!], now: () => now });
    const alert = alertOf('generic-log4shell.json');
    expect(bound(alert, inventory, policy).urgency).toBe('act-now');
    expect(bound(alert, inventory, policy).deadline).toBe('2025-08-28T14:34:00.000Z');
    expect(bound(alert, inventory, policy, { now: '2025-09-01T00:00:00Z' }).deadline).toBe('2025-09-04T00:00:00.000Z');
  });

  it('is deterministic', () => {
    expect(plan('securityhub-imported-envelope.json')).toEqual(plan('securityhub-imported-envelope.json'));
  });

  it('reports named nodes the inventory does not have, and warns about them', () => {
    const alert = { ...alertOf('generic-regresshion.json'), resourceIds: ['i-0eb00000000000001', 'i-0ffffffffffffffff'] };
    const p = planCampaign(alert, inventory, policy);
    expect(p.missingFromInventory).toEqual(['i-0ffffffffffffffff']);
    expect(p.warnings).toEqual(['1 node named by the finding is not in the inventory and will not be patched: i-0ffffffffffffffff (check the scope, or add it to the inventory)']);
    expect(planCampaign(alertOf('generic-regresshion.json'), inventory, policy).warnings).toBeUndefined();
  });

  it('an Inspector ASFF finding naming the instance by the ARN without "instance/" plans that instance, and warns about the one the inventory lacks', () => {
    const p = plan('securityhub-asff-inspector-arn-forms.json');
    // The finding names i-0c100000000000002 by the ARN without "instance/" (it is read, not dropped); both ci-runners run polkit below the fix.
    expect(planNodeIds(p)).toEqual(['i-0c100000000000001', 'i-0c100000000000002']);
    expect(alertOf('securityhub-asff-inspector-arn-forms.json').resourceIds).toEqual(['i-0c100000000000002', 'i-0c1000000000000ff']);
    expect(p.missingFromInventory).toEqual(['i-0c1000000000000ff']);
    expect(p.warnings?.[0]).toContain('i-0c1000000000000ff');
  });

  it('a kernel fix on the no-reboot database tier: planned, and flagged as not live until a maintenance reboot, naming the nodes', () => {
    const p = plan('securityhub-v2-ocsf-dirtypipe-db.json');
    const [db] = clusters(p);
    expect(db).toMatchObject({ id: 'db-prod', tier: 2, noReboot: true, urgency: '14-days', kernelStaysVulnerable: ['i-0db00000000000001', 'i-0db00000000000002', 'i-0db00000000000003'] });
    // The reason says it in full, within its 400 characters (the blast radius still fits); the warning names the nodes.
    expect(db.reason).toMatch(/; no reboot: the running kernel stays vulnerable until a maintenance reboot \(all 3 nodes\); 3 dependent services, high-sensitivity data$/);
    expect(p.warnings).toEqual([
      'db-prod (database tier: no reboot): kernel fix linux-image-aws 5.15.0.1019.21 — the running kernel stays vulnerable until a maintenance reboot on i-0db00000000000001, i-0db00000000000002, i-0db00000000000003',
    ]);
    // The same fix on a tier that reboots is not flagged.
    const rebooting = planCampaign(alertOf('securityhub-v2-ocsf-dirtypipe-db.json'), inventory, parsePolicy({ noRebootRoles: ['cache'] }), { now, kev });
    expect(clusters(rebooting)[0].noReboot).toBe(false);
    expect(clusters(rebooting)[0].kernelStaysVulnerable).toBeUndefined();
    expect(rebooting.warnings).toBeUndefined();
    // A non-kernel fix on the database tier is not flagged either.
    expect(clusters(plan('generic-regresshion.json')).find((c) => c.id === 'db-prod')!.kernelStaysVulnerable).toBeUndefined();
  });

  it('a public exploit is PoC, not exploitation: a local DoS on the worker tier gets 60 days, not the KEV window', () => {
    const p = plan('inspector2-ndjson-systemd-local-dos-poc.ndjson');
    expect(p.assessment).toMatchObject({ exploitation: 'poc', exploitationReason: expect.stringMatching(/^public exploit available \(Inspector: public exploit, last seen 2025-06-02\), not KEV-listed/) });
    expect(clusters(p).map((c) => [c.id, c.tier, c.urgency, c.deadline])).toEqual([['worker-prod', 3, '60-days', '2025-10-24T14:34:00.000Z']]);
  });

  it("NVD's record: its score shown beside the vendor's, the vendor's used; alone, NVD's used; its KEV copy is KEV evidence", () => {
    const nvd = [{ cveId: 'CVE-2024-29069', cvss: [{ source: 'NVD', score: 7.3, vector: 'CVSS:3.1/AV:L/AC:L/PR:L/UI:R/S:U/C:H/I:H/A:H', version: '3.1' as const }] }];
    const snapd = alertOf('inspector2-ec2-snapd-active.json');
    const withVendor = planCampaign({ ...snapd, cvssScores: undefined, cvss: { ...snapd.cvss!, source: 'UBUNTU_CVE' } }, inventory, policy, { now, nvd });
    expect(withVendor.assessment?.cvss).toMatchObject({ source: 'UBUNTU_CVE', score: 4.8 });
    expect(withVendor.assessment?.technicalImpact).toBe('partial');
    expect(withVendor.assessment?.cvssScores?.map((c) => [c.source, c.score, c.used])).toEqual([['UBUNTU_CVE', 4.8, true], ['NVD', 7.3, false]]);
    expect(withVendor.assessment?.cvssChoice).toBe('CVSS UBUNTU_CVE 4.8 (v3.1) used over NVD 7.3 (v3.1) (vendor before NVD)');

    const alone = planCampaign({ ...snapd, cvss: undefined, cvssScores: undefined }, inventory, policy, { now, nvd });
    expect(alone.assessment?.cvss).toMatchObject({ source: 'NVD', score: 7.3 });
    expect(alone.assessment?.technicalImpact).toBe('total');

    const kevCopy = planCampaign(snapd, inventory, policy, { now, nvd: [{ ...nvd[0], kev: { dateAdded: '2024-08-01' } }] });
    expect(kevCopy.assessment).toMatchObject({ exploitation: 'active', exploitationReason: 'KEV-listed since 2024-08-01 (per NVD)' });
  });

  it('refuses an inventory that lists a node twice', () => {
    expect(() => planCampaign(alertOf('generic-regresshion.json'), [...inventory, inventory[0]], policy)).toThrow(/inventory lists asset i-0ed9e000000000001 twice/);
  });

  it('refuses an unreadable "now"', () => {
    expect(() => planCampaign(alertOf('generic-regresshion.json'), inventory, policy, { now: 'yesterday' })).toThrow(/"now" is not a valid time/);
  });
});

describe('plans stay compact (they travel through Temporal history)', () => {
  let alert: NormalizedAlert;
  beforeAll(() => {
    alert = alertOf('generic-regresshion.json');
  });
  const fleet = (clusterCount: number, nodesPerCluster: number, vulnerable: boolean, offset = 0) => sequentialEstate(clusterCount, nodesPerCluster, { vulnerable, offset });

  function sizeOf(clusterCount: number, nodesPerCluster: number) {
    const p = planCampaign(alert, fleet(clusterCount, nodesPerCluster, true), policy, { now, kev });
    return { p, bytes: Buffer.byteLength(JSON.stringify(p)) };
  }

  // How long planning takes is a benchmark's figure (bench/measure-carry.ts prints it), not a test's.
  it('10,000 nodes in 250 clusters of 40: well under 512 KiB with full reasons', () => {
    const { p, bytes } = sizeOf(250, 40);
    expect(p.totalNodes).toBe(10_000);
    expect(bytes).toBeLessThan(384 * 1024);
    expect(p.tiers[0].clusters[0].reason).toContain('public exploit available');
  });

  it('10,000 nodes in 500 clusters of 20: reasons abbreviated to stay well under 512 KiB', () => {
    const { p, bytes } = sizeOf(500, 20);
    expect(bytes).toBeLessThan(400 * 1024);
    expect(p.summary).toMatch(/cluster reasons abbreviated: this evidence applies to every cluster$/);
    const reason = p.tiers[0].clusters[0].reason;
    expect(reason).toMatch(/^tier 1: behind internet-facing ALB svc-\d+; 20 nodes below openssh-server 1:8\.9p1-3ubuntu0\.10/);
    expect(reason).not.toContain('public exploit');
    // Each cluster still carries its own urgency and deadline.
    expect(p.tiers[0].clusters[0]).toMatchObject({ urgency: '3-days', deadline: '2025-08-28T14:34:00.000Z' });
  });

  // The plan whole is the planning activity's result; across continue-as-new only its core travels
  // (test/domain/campaign/carry.test.ts: 1,000 clusters of 10 carry 243 KiB, 10,000 single-node clusters 383 KiB).
  // As JSON it passes 512 KiB here; it travels compressed, well under it (test/temporal/compression.test.ts:
  // 10,000 single-node clusters, 3.5 MiB of JSON, under 512 KiB as stored; test/workflows/large-plan.test.ts).
  it('documents the size of the planning result as JSON: ~22 B per node and ~350 B per cluster, so 1,000 clusters of 10 pass 512 KiB before compression', () => {
    const { bytes } = sizeOf(1000, 10);
    expect(bytes).toBeGreaterThan(512 * 1024);
    expect(bytes).toBeLessThan(640 * 1024);
  });

  it('10,000 planned nodes plus 10,000 that need nothing: the not-affected list is capped, its count kept', () => {
    const p = planCampaign(alert, [...fleet(250, 40, true), ...fleet(250, 40, false, 10_000)], policy, { now, kev });
    expect(p.notAffected).toHaveLength(NOT_AFFECTED_LISTED_MAX);
    expect(p.notAffectedOmitted).toBe(10_000 - NOT_AFFECTED_LISTED_MAX);
    expect(Buffer.byteLength(JSON.stringify(p))).toBeLessThan(400 * 1024);
  });
});
