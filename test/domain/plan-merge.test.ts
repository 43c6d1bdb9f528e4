/**
 * An alert that joins a running campaign (src/domain/plan-merge.ts): only nodes never planned are
 * added, into their cluster while it has not run, into the first tier still to patch when their
 * cluster's tier is behind us, or as a new cluster in its own tier if that is still ahead.
 */
import { describe, expect, it } from 'vitest';
import type { CampaignPlan, ClusterPlan } from '../../src/domain/plan';
import { planNodeIds } from '../../src/domain/plan';
import { mergePlans } from '../../src/domain/plan-merge';

const cluster = (id: string, tier: 1 | 2 | 3, nodes: string[], extra: Partial<ClusterPlan> = {}): ClusterPlan => ({
  id,
  tier,
  nodes,
  canary: nodes[0]!,
  rescue: nodes.length >= 3 ? nodes[nodes.length - 1] : undefined,
  cap: 1,
  size: nodes.length,
  needsApproval: nodes.length === 1,
  noReboot: false,
  reason: `${id} reason`,
  ...extra,
});

const plan = (tiers: ClusterPlan[][], notAffected: { id: string; reason: string }[] = []): CampaignPlan => ({
  cveId: 'CVE-2024-6387',
  scope: 'all',
  tiers: tiers.map((clusters) => ({ tier: clusters[0]!.tier, clusters })),
  totalNodes: tiers.flat().reduce((n, c) => n + c.nodes.length, 0),
  notAffected,
});

/** Tier 1: edge (e1..e4); tier 2: api (a1..a4), web (w1, w2). */
const current = () => plan([[cluster('edge', 1, ['e1', 'e2', 'e3', 'e4'])], [cluster('api', 2, ['a1', 'a2', 'a3', 'a4']), cluster('web', 2, ['w1', 'w2'])]], [{ id: 'old', reason: 'already fixed' }]);

describe('mergePlans', () => {
  it('adds nothing when the fresh plan has no new node, and leaves the current plan untouched', () => {
    const before = current();
    const snapshot = JSON.stringify(before);
    const { plan: merged, added } = mergePlans(before, current(), 0, 0.25);
    expect(added).toEqual([]);
    expect(merged).toEqual(before);
    expect(merged).not.toBe(before);
    expect(JSON.stringify(before)).toBe(snapshot);
  });

  it('with a tier behind us, a fresh plan without new nodes moves and resizes nothing', () => {
    const fresh = plan([[cluster('edge', 1, ['e1', 'e2', 'e3', 'e4'], { size: 40 })], [cluster('api', 2, ['a1', 'a2', 'a3', 'a4'], { size: 40 })]]);
    const { plan: merged, added } = mergePlans(current(), fresh, 1, 0.25);
    expect(added).toEqual([]);
    expect(merged).toEqual(current());
  });

  it('moves only the cluster that got new nodes out of a tier behind us, not its neighbours', () => {
    const before = plan([[cluster('edge', 1, ['e1', 'e2']), cluster('gate', 1, ['g1', 'g2'])], [cluster('api', 2, ['a1', 'a2'])]]);
    const fresh = plan([[cluster('gate', 1, ['g1', 'g2', 'g3'])]]);
    const { plan: merged, added } = mergePlans(before, fresh, 1, 0.25);
    expect(added).toEqual(['g3']);
    expect(merged.tiers.map((t) => t.clusters.map((c) => `${c.id}:${c.nodes.join(',')}`))).toEqual([['edge:e1,e2'], ['api:a1,a2', 'gate:g1,g2,g3']]);
  });

  it('puts new nodes of a cluster still ahead before its rescue node, and resizes its cap', () => {
    const fresh = plan([[cluster('api', 2, ['a1', 'a5', 'a6', 'a7', 'a8', 'a4'])]]);
    const { plan: merged, added } = mergePlans(current(), fresh, 1, 0.25);
    expect(added).toEqual(['a5', 'a6', 'a7', 'a8']);
    const api = merged.tiers[1]!.clusters[0]!;
    expect(api.nodes).toEqual(['a1', 'a2', 'a3', 'a5', 'a6', 'a7', 'a8', 'a4']);
    expect(api.rescue).toBe('a4');
    expect(api.size).toBe(8);
    expect(api.cap).toBe(2);
    expect(api.reason).toBe('api reason');
    expect(merged.totalNodes).toBe(14);
  });

  it('appends to a cluster without a rescue node; the size never shrinks and follows the fresh inventory', () => {
    const fresh = plan([[cluster('web', 2, ['w3'], { size: 12 })]]);
    const { plan: merged } = mergePlans(current(), fresh, 1, 0.25);
    const web = merged.tiers[1]!.clusters[1]!;
    expect(web.nodes).toEqual(['w1', 'w2', 'w3']);
    expect(web.size).toBe(12);
    expect(web.cap).toBe(3);
    const small = mergePlans(current(), plan([[cluster('web', 2, ['w3'], { size: 1 })]]), 1, 0.25).plan.tiers[1]!.clusters[1]!;
    expect(small.size).toBe(3);
    const lowered = mergePlans(current(), plan([[cluster('web', 2, ['w3'], { size: 12 })]]), 1, 0.1).plan.tiers[1]!.clusters[1]!;
    expect(lowered.cap).toBe(1);
  });

  it('moves a cluster whose tier is behind us into the first tier still to patch, saying why', () => {
    const fresh = plan([[cluster('edge', 1, ['e5', 'e6', 'e7', 'e8', 'e9'], { size: 9 })]]);
    const { plan: merged, added } = mergePlans(current(), fresh, 1, 0.25);
    expect(added).toEqual(['e5', 'e6', 'e7', 'e8', 'e9']);
    expect(merged.tiers[0]!.clusters).toEqual([]);
    const moved = merged.tiers[1]!.clusters.find((c) => c.id === 'edge')!;
    expect(merged.tiers[1]!.clusters.map((c) => c.id)).toEqual(['api', 'web', 'edge']);
    // Its finished nodes stay in front: the canary stays done, the old rescue is no longer last.
    expect(moved.nodes).toEqual(['e1', 'e2', 'e3', 'e4', 'e5', 'e6', 'e7', 'e8', 'e9']);
    expect(moved.canary).toBe('e1');
    expect(moved.size).toBe(9);
    expect(moved.cap).toBe(2);
    expect(moved.reason).toBe('edge reason; 5 node(s) added by a later alert');
    expect(merged.totalNodes).toBe(15);
  });

  it('creates the floor tier when the campaign is past its last one', () => {
    const fresh = plan([[cluster('api', 2, ['a9'])]]);
    const { plan: merged } = mergePlans(current(), fresh, 2, 0.25);
    expect(merged.tiers).toHaveLength(3);
    expect(merged.tiers[2]!.tier).toBe(2);
    expect(merged.tiers[2]!.clusters.map((c) => [c.id, c.nodes])).toEqual([['api', ['a1', 'a2', 'a3', 'a4', 'a9']]]);
    expect(merged.tiers[1]!.clusters.map((c) => c.id)).toEqual(['web']);
  });

  it('a cluster never seen goes into its own tier when that is still ahead, else the floor tier', () => {
    const ahead = mergePlans(current(), plan([[cluster('cache', 2, ['c1', 'c2', 'c3'])]]), 0, 0.25).plan;
    expect(ahead.tiers[1]!.clusters.map((c) => c.id)).toEqual(['api', 'web', 'cache']);
    const behind = mergePlans(current(), plan([[cluster('cache', 1, ['c1'])]]), 1, 0.25).plan;
    expect(behind.tiers[0]!.clusters.map((c) => c.id)).toEqual(['edge']);
    expect(behind.tiers[1]!.clusters.map((c) => c.id)).toEqual(['api', 'web', 'cache']);
    const noSuchTier = mergePlans(current(), plan([[cluster('cache', 3, ['c1'])]]), 0, 0.25).plan;
    expect(noSuchTier.tiers[0]!.clusters.map((c) => c.id)).toEqual(['edge', 'cache']);
  });

  it('a new cluster keeps only its new nodes: the first is the canary, the rescue only when it is among them and not alone', () => {
    const withPlanned = plan([[cluster('mixed', 2, ['e1', 'm1', 'm2', 'm3'])]]); // e1 is planned already
    const mixed = mergePlans(current(), withPlanned, 0, 0.25).plan.tiers[1]!.clusters[2]!;
    expect(mixed).toMatchObject({ id: 'mixed', nodes: ['m1', 'm2', 'm3'], canary: 'm1', rescue: 'm3' });
    const rescuePlanned = plan([[cluster('r', 2, ['r1', 'r2', 'e1'])]]); // its rescue e1 is planned already
    expect(mergePlans(current(), rescuePlanned, 0, 0.25).plan.tiers[1]!.clusters[2]).toMatchObject({ nodes: ['r1', 'r2'], canary: 'r1', rescue: undefined });
    const alone = plan([[cluster('s', 2, ['e1', 'e2', 's1'])]]);
    expect(mergePlans(current(), alone, 0, 0.25).plan.tiers[1]!.clusters[2]).toMatchObject({ nodes: ['s1'], canary: 's1', rescue: undefined });
    const noRescue = plan([[cluster('n', 2, ['n1', 'n2'])]]);
    expect(mergePlans(current(), noRescue, 0, 0.25).plan.tiers[1]!.clusters[2]).toMatchObject({ nodes: ['n1', 'n2'], rescue: undefined });
  });

  it('a node named by two fresh clusters is added once', () => {
    const fresh = plan([[cluster('api', 2, ['x1']), cluster('web', 2, ['x1', 'x2'])]]);
    const { plan: merged, added } = mergePlans(current(), fresh, 1, 0.25);
    expect(added).toEqual(['x1', 'x2']);
    expect(planNodeIds(merged).filter((id) => id === 'x1')).toHaveLength(1);
  });

  it('takes the fresh plan\'s not-affected assets it has not planned, the fresh reason replacing an older one', () => {
    const fresh = plan([[cluster('api', 2, ['a5'])]], [{ id: 'old', reason: 'package absent' }, { id: 'new', reason: 'already fixed' }, { id: 'a1', reason: 'already fixed' }, { id: 'a5', reason: 'x' }]);
    const { plan: merged } = mergePlans(current(), fresh, 1, 0.25);
    expect(merged.notAffected).toEqual([
      { id: 'old', reason: 'package absent' },
      { id: 'new', reason: 'already fixed' },
    ]);
  });
});
