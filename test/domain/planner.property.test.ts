import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { NormalizedAlert } from '../../src/domain/alert';
import type { KevEntry } from '../../src/domain/enrichment/kev';
import type { InventoryAsset } from '../../src/domain/inventory';
import { planNodeIds, type CampaignPlan, type ClusterPlan } from '../../src/domain/plan';
import { planCampaign } from '../../src/domain/planner';
import { MAX_UNAVAILABLE_FRACTION, parsePolicy } from '../../src/domain/policy';
import { matchAsset } from '../../src/domain/ranking/affected';
import { urgencyRank } from '../../src/domain/ranking/urgency';
import { runs } from './support/mutation';

/**
 * Properties over random fleets: clusters of random roles, exposure and sensitivity; nodes with the
 * vulnerable or the fixed version (or none); random patch groups, couplings and dependencies.
 */
const VULNERABLE = '1:8.9p1-3ubuntu0.6';
const FIXED = '1:8.9p1-3ubuntu0.10';
const ROLES = ['load-balancer', 'public-web', 'api-gateway', 'auth', 'database', 'queue', 'ci-runner', 'cache', 'monitoring', 'staging', 'worker'];

const clusterArb = fc.record({
  role: fc.constantFrom(...ROLES),
  exposure: fc.constantFrom('internet' as const, 'internal' as const),
  dataSensitivity: fc.constantFrom('high' as const, 'medium' as const, 'low' as const, 'none' as const),
  tier: fc.option(fc.constantFrom(1 as const, 2 as const, 3 as const), { nil: undefined, freq: 4 }),
  nodes: fc.array(
    fc.record({
      version: fc.constantFrom(VULNERABLE, VULNERABLE, FIXED, undefined),
      patchGroup: fc.option(fc.constantFrom('g1', 'g2', 'g3'), { nil: undefined, freq: 2 }),
      coupleWith: fc.option(fc.nat(20), { nil: undefined, freq: 4 }),
      dependOn: fc.option(fc.nat(20), { nil: undefined, freq: 2 }),
    }),
    { minLength: 1, maxLength: 7 },
  ),
});

const fleetArb = fc.array(clusterArb, { minLength: 1, maxLength: 9 }).map((clusters): InventoryAsset[] => {
  const name = (i: number) => `c${i % clusters.length}`;
  return clusters.flatMap((cluster, ci) =>
    cluster.nodes.map((node, ni) => ({
      id: `c${ci}-n${ni}`,
      cluster: `c${ci}`,
      role: cluster.role,
      exposure: cluster.exposure,
      dataSensitivity: cluster.dataSensitivity,
      ...(cluster.tier !== undefined && { tier: cluster.tier }),
      osFamily: 'ubuntu',
      packages: (node.version ? { 'openssh-server': node.version } : {}) as Record<string, string>,
      ...(node.patchGroup && { patchGroup: node.patchGroup }),
      ...(node.coupleWith !== undefined && { coupledWith: [name(node.coupleWith)] }),
      ...(node.dependOn !== undefined && { dependsOn: [name(node.dependOn)] }),
    })),
  );
});

const alertArb = fc.record({
  exploitedInWild: fc.boolean(),
  exploitAvailable: fc.boolean(),
  vector: fc.constantFrom(
    'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
    'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H',
    'CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H',
    'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H',
    'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:P/VC:H/VI:L/VA:N/SC:N/SI:N/SA:N',
  ),
}).map(
  (a): NormalizedAlert => ({
    cveId: 'CVE-2024-6387',
    cvss: { score: 8.1, vector: a.vector },
    packages: [{ name: 'openssh-server', fixedVersion: FIXED, ecosystem: 'dpkg' }],
    exploitedInWild: a.exploitedInWild,
    exploitAvailable: a.exploitAvailable,
    source: 'generic',
  }),
);

const policyArb = fc.record({
  maxUnavailableFraction: fc.constantFrom(0.1, 0.2, 0.25),
  rescueNodeMinClusterSize: fc.integer({ min: 2, max: 5 }),
}).map((p) => parsePolicy(p));

const now = new Date('2025-08-25T14:34:00Z');
const clustersOf = (plan: CampaignPlan): ClusterPlan[] => plan.tiers.flatMap((t) => t.clusters);

/** Blocks in plan order: consecutive clusters sharing a block id, or a lone cluster. */
function blocksOf(plan: CampaignPlan): ClusterPlan[][] {
  const blocks: ClusterPlan[][] = [];
  for (const cluster of clustersOf(plan)) {
    const last = blocks[blocks.length - 1];
    if (cluster.block && last && last[0].block === cluster.block) last.push(cluster);
    else blocks.push([cluster]);
  }
  return blocks;
}

describe('planner properties', () => {
  it('plans every affected node exactly once, and nothing else', () => {
    fc.assert(
      fc.property(fleetArb, alertArb, policyArb, (inventory, alert, policy) => {
        const plan = planCampaign(alert, inventory, policy, { now });
        const planned = planNodeIds(plan);
        const affected = inventory.filter((a) => matchAsset(alert, a).affected).map((a) => a.id);
        expect(new Set(planned).size).toBe(planned.length);
        expect([...planned].sort()).toEqual([...affected].sort());
        expect(plan.totalNodes).toBe(affected.length);
        expect(plan.notAffected.length + (plan.notAffectedOmitted ?? 0) + planned.length).toBe(inventory.length);
      }),
      { numRuns: runs(300) },
    );
  });

  it('tiers come out in order, and each cluster sits in its tier', () => {
    fc.assert(
      fc.property(fleetArb, alertArb, (inventory, alert) => {
        const plan = planCampaign(alert, inventory, parsePolicy({}), { now });
        const tiers = plan.tiers.map((t) => t.tier);
        expect(tiers).toEqual([...tiers].sort());
        expect(new Set(tiers).size).toBe(tiers.length);
        for (const tier of plan.tiers) for (const cluster of tier.clusters) expect(cluster.tier).toBe(tier.tier);
        // Internet-facing assets are always tier 1, whatever their label says.
        for (const asset of inventory.filter((a) => a.exposure === 'internet')) {
          const cluster = clustersOf(plan).find((c) => c.nodes.includes(asset.id));
          if (cluster) expect(cluster.tier).toBe(1);
        }
      }),
      { numRuns: runs(300) },
    );
  });

  it('coupled blocks are never split: same tier, adjacent, one block id', () => {
    fc.assert(
      fc.property(fleetArb, alertArb, (inventory, alert) => {
        const plan = planCampaign(alert, inventory, parsePolicy({}), { now });
        const clusterOf = new Map(clustersOf(plan).flatMap((c) => c.nodes.map((n) => [n, c] as const)));
        const planned = inventory.filter((a) => clusterOf.has(a.id));
        const mustMoveTogether = (a: ClusterPlan, b: ClusterPlan) => {
          if (a.id === b.id) return;
          expect(a.block, `${a.id} and ${b.id} are coupled`).toBeDefined();
          expect(a.block).toBe(b.block);
          expect(a.tier).toBe(b.tier);
        };
        for (const a of planned)
          for (const b of planned) {
            if (a.patchGroup && a.patchGroup === b.patchGroup) mustMoveTogether(clusterOf.get(a.id)!, clusterOf.get(b.id)!);
            if (a.coupledWith?.includes(b.cluster)) mustMoveTogether(clusterOf.get(a.id)!, clusterOf.get(b.id)!);
          }
        // A block id appears in one contiguous run of clusters.
        const runs = blocksOf(plan).flatMap((block) => (block[0].block ? [block[0].block] : []));
        expect(new Set(runs).size).toBe(runs.length);
        // Within a tier, blocks never get more urgent further down.
        for (const tier of plan.tiers) {
          const ranks = blocksOf({ ...plan, tiers: [tier] }).map((block) => urgencyRank(block[0].urgency));
          expect(ranks).toEqual([...ranks].sort((x, y) => x - y));
        }
      }),
      { numRuns: runs(300) },
    );
  });

  it('never plans more than 25% of a cluster out at once; canary first, rescue last', () => {
    fc.assert(
      fc.property(fleetArb, alertArb, policyArb, (inventory, alert, policy) => {
        const plan = planCampaign(alert, inventory, policy, { now });
        for (const cluster of clustersOf(plan)) {
          expect(cluster.cap).toBe(Math.max(1, Math.floor(Math.min(policy.maxUnavailableFraction, MAX_UNAVAILABLE_FRACTION) * cluster.size + 1e-9)));
          expect(cluster.canary).toBe(cluster.nodes[0]);
          if (cluster.rescue) {
            expect(cluster.rescue).toBe(cluster.nodes[cluster.nodes.length - 1]);
            expect(cluster.size).toBeGreaterThanOrEqual(policy.rescueNodeMinClusterSize);
          }
          expect(cluster.needsApproval).toBe(cluster.size === 1);
          expect(cluster.size).toBe(inventory.filter((a) => a.cluster === cluster.id).length);
          expect(cluster.reason.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: runs(300) },
    );
  });

  it('a KEV-listed, internet-facing, network-exploitable RCE is always in the first block', () => {
    const kev: KevEntry[] = [
      {
        cveID: 'CVE-2021-44228',
        vendorProject: 'Apache',
        product: 'Log4j2',
        vulnerabilityName: 'Apache Log4j2 Remote Code Execution Vulnerability',
        dateAdded: '2021-12-10',
        shortDescription: 'Apache Log4j2 contains a vulnerability where JNDI features do not protect against attacker-controlled JNDI-related endpoints, allowing for remote code execution.',
        requiredAction: 'Apply updates per vendor instructions.',
        dueDate: '2021-12-24',
      },
    ];
    const log4shell: NormalizedAlert = {
      cveId: 'CVE-2021-44228',
      cvss: { score: 10, vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H' },
      packages: [{ name: 'openssh-server', fixedVersion: FIXED, ecosystem: 'dpkg' }],
      source: 'generic',
    };
    fc.assert(
      fc.property(fleetArb, fc.nat(), (fleet, pick) => {
        // Exactly one internet-facing, vulnerable asset, somewhere in an otherwise internal fleet.
        const inventory: InventoryAsset[] = fleet.map((a) => ({ ...a, exposure: 'internal' }));
        const target = inventory[pick % inventory.length];
        target.exposure = 'internet';
        target.packages = { 'openssh-server': VULNERABLE };
        const plan = planCampaign(log4shell, inventory, parsePolicy({}), { now, kev });
        const [first] = blocksOf(plan);
        expect(first.some((c) => c.nodes.includes(target.id))).toBe(true);
        expect(first[0]).toMatchObject({ tier: 1, urgency: 'act-now' });
        const targetCluster = first.find((c) => c.nodes.includes(target.id))!;
        expect(targetCluster.reason).toContain('KEV-listed since 2021-12-10');
        expect(targetCluster.reason).toContain('RCE, network, no auth');
        expect(targetCluster.reason).toContain('+ forensic triage');
      }),
      { numRuns: runs(300) },
    );
  });
});
