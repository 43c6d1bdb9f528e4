/**
 * The planner's rules on small hand-made fleets (src/domain/planner.ts): how clusters and blocks
 * are ranked within a tier, which node is the canary, what a cluster's facts are made of, the
 * warnings and their lists, and how a bound context yields to a per-call one. planner.test.ts
 * checks whole plans for the fixtures; each case here isolates one rule.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { NormalizedAlert } from '../../src/domain/alert';
import type { EpssTable } from '../../src/domain/enrichment/epss';
import type { KevEntry } from '../../src/domain/enrichment/kev';
import type { NvdRecord } from '../../src/domain/enrichment/nvd';
import type { InventoryAsset } from '../../src/domain/inventory';
import type { CampaignPlan, ClusterPlan } from '../../src/domain/plan';
import { createPlanner, NOT_AFFECTED_LISTED_MAX, planCampaign } from '../../src/domain/planner';
import { parsePolicy, type Policy } from '../../src/domain/policy';

// Made in each test, never while the file loads: Stryker counts code run outside a test as static
// and runs every test for each of its mutants (docs/testing.md, "Mutation testing").
let policy: Policy;
beforeEach(() => {
  policy = parsePolicy({});
});
const alert: NormalizedAlert = { cveId: 'CVE-2024-0001', packages: [{ name: 'openssl', fixedVersion: '3.0.8' }], source: 'generic' };
const asset = (id: string, cluster: string, over: Partial<InventoryAsset> = {}): InventoryAsset => ({
  id,
  cluster,
  role: 'web',
  exposure: 'internal',
  dataSensitivity: 'none',
  packages: { openssl: '3.0.1' },
  ...over,
});
const clusters = (p: CampaignPlan): ClusterPlan[] => p.tiers.flatMap((t) => t.clusters);
const order = (p: CampaignPlan) => clusters(p).map((c) => c.id);
const byId = (p: CampaignPlan, id: string) => clusters(p).find((c) => c.id === id)!;

describe('ranking within a tier', () => {
  it('more dependent services first, then more sensitive data, then more nodes, then the id', () => {
    const fleet = [
      asset('z1', 'zeta'),
      asset('y1', 'ypsilon'),
      asset('x1', 'xi', { dataSensitivity: 'low' }),
      asset('w1', 'omega', { dataSensitivity: 'low' }),
      asset('w2', 'omega', { dataSensitivity: 'none' }),
      asset('v1', 'nu', { dataSensitivity: 'medium' }),
      asset('u1', 'mu'),
      asset('c1', 'client', { dependsOn: ['mu'] }),
      asset('c2', 'client2', { dependsOn: ['mu', 'nu'] }),
    ];
    // mu: 2 dependents; nu: 1 dependent; then by sensitivity (omega low with 2 nodes, xi low with 1), then the ids.
    expect(order(planCampaign(alert, fleet, policy))).toEqual(['mu', 'nu', 'omega', 'xi', 'client', 'client2', 'ypsilon', 'zeta']);
  });

  it('a cluster carries its most sensitive member\'s data, whatever the order', () => {
    const fleet = [asset('a1', 'a', { dataSensitivity: 'high' }), asset('a2', 'a', { dataSensitivity: 'low' }), asset('b1', 'b', { dataSensitivity: 'medium' })];
    const p = planCampaign(alert, fleet, policy);
    expect(order(p)).toEqual(['a', 'b']);
    expect(byId(p, 'a').reason).toMatch(/; high-sensitivity data$/);
  });

  it('a block ranks by its most depended-on and most sensitive member, its size, and its smallest id', () => {
    const grouped = (id: string, cluster: string, over: Partial<InventoryAsset> = {}) => asset(id, cluster, { patchGroup: 'pg', ...over });
    // Two nodes each: the block {zulu, alpha} goes by its smallest id, alpha, before mike; {zulu, yankee} after it.
    expect(order(planCampaign(alert, [grouped('z1', 'zulu'), asset('m1', 'mike'), grouped('a1', 'alpha'), asset('m2', 'mike')], policy))).toEqual(['alpha', 'zulu', 'mike']);
    expect(order(planCampaign(alert, [grouped('z1', 'zulu'), asset('m1', 'mike'), grouped('y1', 'yankee'), asset('m2', 'mike')], policy))).toEqual(['mike', 'yankee', 'zulu']);
    // More nodes in all: the block first.
    expect(order(planCampaign(alert, [grouped('z1', 'zulu'), asset('m1', 'mike'), grouped('y1', 'yankee')], policy))).toEqual(['yankee', 'zulu', 'mike']);
    // A block with a depended-on member, or a sensitive one, outranks a bigger lone cluster.
    const three = [asset('m1', 'mike'), asset('m2', 'mike'), asset('m3', 'mike')];
    expect(order(planCampaign(alert, [...three, grouped('z1', 'zulu'), grouped('y1', 'yankee'), asset('c1', 'client', { dependsOn: ['yankee'] })], policy))).toEqual(['yankee', 'zulu', 'mike', 'client']);
    expect(order(planCampaign(alert, [...three, grouped('z1', 'zulu', { dataSensitivity: 'low' }), grouped('y1', 'yankee')], policy))).toEqual(['zulu', 'yankee', 'mike']);
  });

  it('inside a block, a server before its clients, whatever their rank; otherwise by rank', () => {
    const fleet = [
      asset('b1', 'big', { patchGroup: 'pg' }),
      asset('b2', 'big', { patchGroup: 'pg' }),
      asset('c1', 'clients', { patchGroup: 'pg', dependsOn: ['server'] }),
      asset('c2', 'clients', { patchGroup: 'pg' }),
      asset('c3', 'clients', { patchGroup: 'pg' }),
      asset('s1', 'server', { patchGroup: 'pg' }),
      asset('u1', 'ui', { dependsOn: ['clients'] }),
    ];
    // clients outranks server (same dependents, more nodes) but depends on it; big has no dependents.
    const p = planCampaign(alert, fleet, policy);
    expect(order(p)).toEqual(['server', 'clients', 'big', 'ui']);
    expect(clusters(p).map((c) => c.block)).toEqual(['b1', 'b1', 'b1', undefined]);
  });

  it('a block\'s reason lists three partners and two couplings, then counts the rest', () => {
    const fleet = ['a', 'b', 'c', 'd', 'e'].map((c) => asset(`${c}1`, c, { coupledWith: ['a', 'b', 'c', 'd', 'e'].filter((o) => o !== c) }));
    expect(byId(planCampaign(alert, fleet, policy), 'a').reason).toMatch(/; moves with b, c, d \+1 \(coupled a \+ b, coupled a \+ c \+8\); single node: needs approval$/);
  });

  it('two or three partners and two couplings are all named, with no "+0"; equal clusters of a block go by id whatever the listing order', () => {
    const chain3 = [asset('c1', 'c'), asset('b1', 'b', { coupledWith: ['c'] }), asset('a1', 'a', { coupledWith: ['b'] })];
    const p3 = planCampaign(alert, chain3, policy);
    expect(order(p3)).toEqual(['a', 'b', 'c']);
    expect(byId(p3, 'a').reason).toMatch(/; moves with b, c \(coupled a \+ b, coupled b \+ c\); single node: needs approval$/);
    const chain4 = [asset('d1', 'd'), ...chain3.map((a) => (a.cluster === 'c' ? { ...a, coupledWith: ['d'] } : a))];
    const p4 = planCampaign(alert, chain4, policy);
    expect(order(p4)).toEqual(['a', 'b', 'c', 'd']);
    expect(byId(p4, 'a').reason).toMatch(/; moves with b, c, d \(coupled a \+ b, coupled b \+ c \+1\); single node: needs approval$/);
  });

  it('a block with one partner and one coupling names them', () => {
    const fleet = [asset('a1', 'a', { patchGroup: 'pg' }), asset('b1', 'b', { patchGroup: 'pg' })];
    expect(byId(planCampaign(alert, fleet, policy), 'a').reason).toMatch(/; moves with b \(patch group pg\); single node: needs approval$/);
  });

  it('the tiers come out in order', () => {
    const fleet = [asset('s1', 'staging', { role: 'staging' }), asset('d1', 'db', { role: 'database' }), asset('w1', 'web', { exposure: 'internet' })];
    expect(planCampaign(alert, fleet, policy).tiers.map((t) => [t.tier, t.clusters.map((c) => c.id)])).toEqual([
      [1, ['web']],
      [2, ['db']],
      [3, ['staging']],
    ]);
  });
});

describe('a cluster\'s own facts', () => {
  it('the canary is the most urgent node; equals keep the inventory\'s order', () => {
    const fleet = [asset('i1', 'web'), asset('e1', 'web', { exposure: 'internet' }), asset('i2', 'web'), asset('e2', 'web', { exposure: 'internet' }), asset('i3', 'web')];
    const web = byId(planCampaign(alert, fleet, policy), 'web');
    expect(web.nodes).toEqual(['e1', 'e2', 'i1', 'i2', 'i3']);
    expect(web.canary).toBe('e1');
    expect(web.rescue).toBe('i3');
  });

  it('takes its tier and the reason for it from its first most exposed member', () => {
    const fleet = [
      asset('w1', 'web', { role: 'database' }),
      asset('w2', 'web', { exposure: 'internet', exposureVia: 'internet-facing ALB front' }),
      asset('w3', 'web', { exposure: 'internet', exposureVia: 'public IP 203.0.113.9' }),
    ];
    expect(byId(planCampaign(alert, fleet, policy), 'web').reason).toMatch(/^tier 1: behind internet-facing ALB front;/);
  });

  it('is patched without reboot when any affected member has a no-reboot role', () => {
    const fleet = [asset('d1', 'mixed', { role: 'web' }), asset('d2', 'mixed', { role: 'database' })];
    expect(byId(planCampaign(alert, fleet, policy), 'mixed').noReboot).toBe(true);
    expect(byId(planCampaign(alert, [asset('w1', 'web')], policy), 'web').noReboot).toBe(false);
  });

  it('counts nodes only named by the finding (no version in the inventory) when a package is missing from one of them', () => {
    const two: NormalizedAlert = { ...alert, packages: [{ name: 'openssl', fixedVersion: '3.0.8' }, { name: 'libssl3', fixedVersion: '3.0.8' }], resourceIds: ['n1', 'n2'] };
    const fleet = [asset('n1', 'web', { packages: {} }), asset('n2', 'web', { packages: { openssl: '3.0.1' } })];
    expect(byId(planCampaign(two, fleet, policy), 'web').reason).toContain('2 nodes below openssl 3.0.8, libssl3 3.0.8 (1 named by the finding, version not in inventory)');
  });
});

describe('kernel fixes on a no-reboot tier', () => {
  const kernelAlert: NormalizedAlert = {
    ...alert,
    packages: [
      { name: 'openssl', fixedVersion: '3.0.8' },
      { name: 'linux-image-aws', fixedVersion: '6.8.0-40' },
      { name: 'linux-modules-aws', fixedVersion: '6.8.0-40' },
      { name: 'kernel', fixedVersion: '6.8.0-40' },
    ],
  };
  const withKernel = { openssl: '3.0.1', 'linux-image-aws': '6.8.0-31', 'linux-modules-aws': '6.8.0-31', kernel: '6.8.0-31' };

  it('names the kernel packages (two, then a count), the roles, and only the nodes whose kernel stays vulnerable', () => {
    const fleet = [asset('d1', 'db', { role: 'database', packages: withKernel }), asset('d2', 'db', { role: 'cache', packages: { openssl: '3.0.1' } })];
    const p = planCampaign(kernelAlert, fleet, policy);
    expect(p.warnings).toEqual(['db (database/cache tier: no reboot): kernel fix linux-image-aws 6.8.0-40, linux-modules-aws 6.8.0-40 +1 — the running kernel stays vulnerable until a maintenance reboot on d1']);
    expect(byId(p, 'db')).toMatchObject({ kernelStaysVulnerable: ['d1'] });
    expect(byId(p, 'db').reason).toMatch(/; no reboot: the running kernel stays vulnerable until a maintenance reboot \(d1\)$/);
  });

  it('a node with the kernel among other vulnerable packages counts; two kernel packages are listed without a count', () => {
    const twoKernel: NormalizedAlert = { ...kernelAlert, packages: kernelAlert.packages.slice(0, 3) };
    const fleet = [asset('d1', 'db', { role: 'database', packages: withKernel }), asset('d2', 'db', { role: 'database', packages: withKernel })];
    const p = planCampaign(twoKernel, fleet, policy);
    expect(p.warnings).toEqual(['db (database tier: no reboot): kernel fix linux-image-aws 6.8.0-40, linux-modules-aws 6.8.0-40 — the running kernel stays vulnerable until a maintenance reboot on d1, d2']);
    expect(byId(p, 'db').reason).toMatch(/\(all 2 nodes\)$/);
  });

  it('lists ten nodes, then counts the rest; the reason lists two', () => {
    const fleet = [...Array.from({ length: 12 }, (_, i) => asset(`d${String(i + 1).padStart(2, '0')}`, 'db', { role: 'database', packages: withKernel })), asset('d99', 'db', { role: 'database' })];
    const p = planCampaign(kernelAlert, fleet, policy);
    expect(p.warnings![0]).toMatch(/ on d01, d02, d03, d04, d05, d06, d07, d08, d09, d10 \+2 more$/);
    expect(byId(p, 'db').reason).toMatch(/\(d01, d02 \+10 more\)$/);
  });

  it('rebooting tiers are not flagged', () => {
    const p = planCampaign(kernelAlert, [asset('w1', 'web', { packages: withKernel })], policy);
    expect(p.warnings).toBeUndefined();
    expect(byId(p, 'web').kernelStaysVulnerable).toBeUndefined();
  });
});

describe('nodes the finding names that the inventory lacks', () => {
  it('one node: singular wording', () => {
    const p = planCampaign({ ...alert, resourceIds: ['ghost'] }, [asset('w1', 'web')], policy);
    expect(p.warnings).toEqual(['1 node named by the finding is not in the inventory and will not be patched: ghost (check the scope, or add it to the inventory)']);
  });

  it('several: plural wording, ten listed in the warning, the list in the plan capped', () => {
    const ghosts = Array.from({ length: NOT_AFFECTED_LISTED_MAX + 5 }, (_, i) => `g${i}`);
    const p = planCampaign({ ...alert, resourceIds: ghosts }, [asset('w1', 'web')], policy);
    expect(p.warnings).toEqual([
      `205 nodes named by the finding are not in the inventory and will not be patched: ${ghosts.slice(0, 10).join(', ')} +195 more (check the scope, or add them to the inventory)`,
    ]);
    expect(p.missingFromInventory).toEqual(ghosts.slice(0, NOT_AFFECTED_LISTED_MAX));
    const two = planCampaign({ ...alert, resourceIds: ['g1', 'g2'] }, [asset('w1', 'web')], policy);
    expect(two.warnings).toEqual(['2 nodes named by the finding are not in the inventory and will not be patched: g1, g2 (check the scope, or add them to the inventory)']);
  });
});

describe('createPlanner: a bound context, and a per-call one that wins field by field', () => {
  const kevEntry: KevEntry = {
    cveID: 'CVE-2024-0001',
    vendorProject: 'OpenSSL',
    product: 'OpenSSL',
    vulnerabilityName: 'OpenSSL flaw',
    dateAdded: '2024-02-01',
    shortDescription: 'A flaw.',
    requiredAction: 'Patch.',
    dueDate: '2024-02-22',
    knownRansomwareUse: 'Unknown',
  } as KevEntry;
  const epss = (score: number): EpssTable => ({ scores: { 'CVE-2024-0001': { epss: score, percentile: 0.5 } } });
  const nvd = (vector: string): NvdRecord[] => [{ cveId: 'CVE-2024-0001', cvss: [{ source: 'nvd@nist.gov', score: 9.8, vector, version: '3.1' }] }];
  const fleet = [asset('w1', 'web')];

  it('kev', () => {
    expect(createPlanner({ kev: [kevEntry] })(alert, fleet, policy).assessment?.exploitation).toBe('active');
    expect(createPlanner({ kev: [kevEntry] })(alert, fleet, policy, { kev: [] }).assessment?.exploitation).toBe('none');
    expect(createPlanner({})(alert, fleet, policy, { kev: [kevEntry] }).assessment?.exploitation).toBe('active');
  });

  it('epss', () => {
    expect(createPlanner({ epss: epss(0.5) })(alert, fleet, policy).assessment?.epss).toEqual({ score: 0.5, percentile: 0.5 });
    expect(createPlanner({ epss: epss(0.5) })(alert, fleet, policy, { epss: epss(0.25) }).assessment?.epss).toEqual({ score: 0.25, percentile: 0.5 });
    expect(createPlanner({ epss: epss(0.5) })(alert, fleet, policy, { kev: [] }).assessment?.epss).toEqual({ score: 0.5, percentile: 0.5 });
  });

  it('nvd', () => {
    const total = 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H';
    const partial = 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N';
    expect(createPlanner({ nvd: nvd(total) })(alert, fleet, policy).assessment?.technicalImpact).toBe('total');
    expect(createPlanner({ nvd: nvd(total) })(alert, fleet, policy, { nvd: nvd(partial) }).assessment?.technicalImpact).toBe('partial');
    expect(createPlanner({ nvd: nvd(total) })(alert, fleet, policy, { epss: epss(0.1) }).assessment?.technicalImpact).toBe('total');
  });
});
