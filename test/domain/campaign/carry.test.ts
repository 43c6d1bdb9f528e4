/**
 * The plan across continue-as-new (src/domain/campaign/carry.ts): the core carried, the prose read
 * back from the previous run, what joins changed carried — and the whole comes back equal. Sizes
 * are measured on the synthetic fleets of test/domain/planner.test.ts ("plans stay compact").
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAlert } from '../../../src/domain/alerts';
import { decodeProse, encodeProse, proseOf, recordedOrder, type EncodedProse } from '../../../src/domain/campaign/carry';
import { beginRun, carryCompact, carryForContinueAsNew, isCompactCarried, newCampaignState } from '../../../src/domain/campaign/state';
import type { CampaignState, CompactCarriedState } from '../../../src/domain/campaign/types';
import { parseKevCatalogText, type KevCatalog } from '../../../src/domain/enrichment/kev';
import type { NormalizedAlert } from '../../../src/domain/alert';
import type { NodeOutcome } from '../../../src/domain/node-state';
import type { CampaignPlan, ClusterPlan } from '../../../src/domain/plan';
import { mergePlans } from '../../../src/domain/plan-merge';
import { planCampaign } from '../../../src/domain/planner';
import { parsePolicy, type Policy } from '../../../src/domain/policy';
import { sequentialEstate } from '../../support/synthetic-inventory';

// Parsed in beforeAll, not while the file loads: under Stryker, domain code run at collection time
// counts as static and every test would run for each of its mutants.
let alert: NormalizedAlert;
let kev: KevCatalog;
let policy: Policy;
beforeAll(() => {
  alert = parseAlert(readFileSync(new URL('../../fixtures/alerts/generic-regresshion.json', import.meta.url))).alerts[0]!;
  kev = parseKevCatalogText(readFileSync(new URL('../../../data/kev/known_exploited_vulnerabilities.json', import.meta.url), 'utf8'));
  policy = parsePolicy({});
});
const now = new Date('2025-08-25T14:34:00Z');
/** The synthetic fleet of planner.test.ts's "plans stay compact". */
const fleet = (clusterCount: number, nodesPerCluster: number, offset = 0) => sequentialEstate(clusterCount, nodesPerCluster, { offset });

/** A campaign half way through: the first half of the clusters patched, leased and released; one running. */
function midCampaign(plan: CampaignPlan): CampaignState {
  const state = newCampaignState(alert, 'all', policy, now.toISOString());
  state.plan = plan;
  const clusters = plan.tiers.flatMap((t) => t.clusters);
  clusters.slice(0, Math.floor(clusters.length / 2)).forEach((c) => {
    for (const id of c.nodes) state.outcomes[id] = 'patched';
    state.leases[c.id] = 'released';
  });
  const running = clusters[Math.floor(clusters.length / 2)]!;
  state.outcomes[running.canary] = 'running';
  state.runningSince[running.canary] = 1;
  state.leases[running.id] = 'granted';
  state.tierIndex = 1;
  return state;
}

/** Continue-as-new as the workflow does it, through JSON both ways: carry, then begin with the prose read back. */
function continueAsNew(state: CampaignState, recordedPlan: CampaignPlan): { next: CampaignState; inputBytes: number; proseBytes: number } {
  const input = { alert, fleet: { provider: 'sim', scope: 'all' }, policy: {}, carried: carryCompact(state, proseOf(recordedPlan)) };
  const json = JSON.stringify(input);
  const carried = (JSON.parse(json) as typeof input).carried as CompactCarriedState;
  const proseJson = JSON.stringify(encodeProse(recordedPlan));
  const prose = decodeProse(JSON.parse(proseJson) as EncodedProse, recordedOrder(carried.planCore, carried.proseChanges));
  const next = beginRun(carried, () => {
    throw new Error('carried state expected');
  }, alert, prose);
  return { next, inputBytes: Buffer.byteLength(json), proseBytes: Buffer.byteLength(proseJson) };
}

const plain = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const kib = (bytes: number) => bytes / 1024;

describe('the continue-as-new input carries the plan core only (measured)', () => {
  // The continue-as-new input as the workflow writes it (JSON, as the default payload converter does).
  it.each([
    // Measured: 602 → 242.6 KiB (prose 39.9 KiB); 3,917 → 383.2 KiB (prose 430.4 KiB). The policy
    // travels in the input too: its two fields for preparing ahead made the second 3,918.
    [1_000, 10, 602, 256, 48],
    [10_000, 1, 3_918, 400, 448],
  ])('%i clusters of %i: whole plan %i KiB before, now under %i KiB; the prose read back under %i KiB', (clusterCount, perCluster, before, after, proseMax) => {
    const plan = planCampaign(alert, fleet(clusterCount, perCluster), policy, { now, kev });
    const state = midCampaign(plan);
    const whole = Buffer.byteLength(JSON.stringify({ alert, fleet: { provider: 'sim', scope: 'all' }, policy: {}, carried: carryForContinueAsNew(state) }));
    expect(Math.round(kib(whole))).toBe(before);
    const { next, inputBytes, proseBytes } = continueAsNew(state, plan);
    expect(kib(inputBytes)).toBeLessThan(after);
    expect(kib(proseBytes)).toBeLessThan(proseMax);
    // Both under Temporal's 512 KiB payload warning.
    expect(Math.max(inputBytes, proseBytes)).toBeLessThan(512 * 1024);
    expect({ ...next, runs: next.runs - 1 }).toEqual(plain(state));
  });
});

describe('round trips', () => {
  let base: CampaignPlan;
  beforeAll(() => {
    base = planCampaign(alert, fleet(30, 4), policy, { now, kev });
  });

  it('comes back equal after a join added nodes, moved a past cluster and added clusters — twice', () => {
    // Tier 1 is behind us: a join that adds nodes to one of its clusters moves that cluster to tier 2.
    const fresh = planCampaign(alert, [...fleet(30, 4), ...fleet(40, 5, 10_000).map((a) => ({ ...a, cluster: a.cluster.replace('svc', 'new') })), { ...fleet(1, 1, 20_000)[0]!, cluster: base.tiers[0]!.clusters[0]!.id }], policy, { now, kev });
    const { plan: merged, added } = mergePlans(base, fresh, 1, policy.maxUnavailableFraction);
    expect(added.length).toBeGreaterThan(100);
    const state = midCampaign(merged);
    const once = continueAsNew(state, base);
    expect(once.next.plan).toEqual(plain(merged));
    // The next run carries again, against the same recorded prose (it never changes).
    const twice = continueAsNew(once.next, base);
    expect({ ...twice.next, runs: twice.next.runs - 2 }).toEqual(plain(state));
  });

  it('carries what changed in the plan-wide prose and the cluster order since the prose was recorded', () => {
    const changed: CampaignPlan = plain(base);
    changed.summary = `${changed.summary}; a later alert joined`;
    changed.warnings = [...(changed.warnings ?? []), 'a join added a warning'];
    const tier = changed.tiers[1]!;
    tier.clusters = [...tier.clusters].reverse();
    const { next } = continueAsNew(midCampaign(changed), base);
    expect(next.plan).toEqual(plain(changed));
    // And a field the recorded prose had that the plan no longer has stays gone.
    const dropped: CampaignPlan = plain(base);
    delete dropped.warnings;
    expect(continueAsNew(midCampaign(dropped), base).next.plan).toEqual(plain(dropped));
  });

  it('keeps a rescue node that a join left in the middle, and canaries that are not first', () => {
    const weird: CampaignPlan = plain(base);
    const c = weird.tiers[0]!.clusters[0]!;
    c.nodes.push('late-joiner');
    weird.tiers[0]!.clusters[1]!.canary = weird.tiers[0]!.clusters[1]!.nodes[2]!;
    const { next } = continueAsNew(midCampaign(weird), weird);
    expect(next.plan).toEqual(plain(weird));
    expect(next.plan.tiers[0]!.clusters[0]!.rescue).toBe(c.rescue);
  });

  it('any plan, outcomes and leases (property)', () => {
    const outcomeArb = fc.constantFrom<NodeOutcome>('pending', 'running', 'patched', 'pending-reboot', 'restart-pending', 'rolled-back', 'quarantined', 'unhealthy', 'failed', 'skipped');
    const clusterArb = fc.record({
      size: fc.integer({ min: 1, max: 6 }),
      canary: fc.nat(),
      rescue: fc.option(fc.nat(), { nil: undefined }),
      cap: fc.integer({ min: 1, max: 3 }),
      needsApproval: fc.boolean(),
      noReboot: fc.boolean(),
      reason: fc.option(fc.array(fc.constantFrom('tier 1', 'behind ALB x', 'a; b', '', 'ünïcode; ;'), { maxLength: 4 }).map((parts) => parts.join('; ')), { nil: undefined }),
      urgency: fc.option(fc.constantFrom('act-now', '3-days'), { nil: undefined }),
      kernel: fc.option(fc.array(fc.string(), { maxLength: 2 }), { nil: undefined }),
      outcomes: fc.array(outcomeArb, { minLength: 6, maxLength: 6 }),
      lease: fc.constantFrom(undefined, 'requested' as const, 'granted' as const, 'released' as const),
    });
    fc.assert(
      fc.property(fc.array(fc.array(clusterArb, { maxLength: 4 }), { minLength: 1, maxLength: 3 }), fc.option(fc.string(), { nil: undefined }), (tiers, summary) => {
        let n = 0;
        const plan: CampaignPlan = {
          cveId: 'CVE-2024-6387',
          scope: 'all',
          totalNodes: 0,
          notAffected: [{ id: 'x', reason: 'fixed' }],
          ...(summary !== undefined && { summary }),
          tiers: tiers.map((clusters, t) => ({
            tier: (t + 1) as 1 | 2 | 3,
            clusters: clusters.map((c, i): ClusterPlan => {
              const nodes = Array.from({ length: c.size }, () => `n${n++}`);
              return {
                id: `c${t}-${i}`,
                tier: (t + 1) as 1 | 2 | 3,
                nodes,
                canary: nodes[c.canary % c.size]!,
                ...(c.rescue !== undefined && { rescue: nodes[c.rescue % c.size] }),
                cap: c.cap,
                size: c.size + 1,
                needsApproval: c.needsApproval,
                noReboot: c.noReboot,
                reason: c.reason as string,
                ...(c.urgency && { urgency: c.urgency }),
                ...(c.kernel && { kernelStaysVulnerable: c.kernel }),
              };
            }),
          })),
        };
        plan.totalNodes = n;
        const state = newCampaignState(alert, 'all', policy, now.toISOString());
        state.plan = plan;
        tiers.forEach((clusters, t) =>
          clusters.forEach((c, i) => {
            const cluster = plan.tiers[t]!.clusters[i]!;
            cluster.nodes.forEach((id, k) => {
              if (c.outcomes[k] !== 'pending') state.outcomes[id] = c.outcomes[k]!;
            });
            if (c.lease) state.leases[cluster.id] = c.lease;
          }),
        );
        const { next } = continueAsNew(state, plan);
        expect({ ...next, runs: next.runs - 1 }).toEqual(plain(state));
      }),
      { numRuns: 300 },
    );
  });

  it('still begins from the whole plan that older versions carried', () => {
    const state = midCampaign(base);
    const carried = plain(carryForContinueAsNew(state));
    expect(isCompactCarried(carried)).toBe(false);
    const next = beginRun(carried, () => {
      throw new Error('carried state expected');
    }, alert);
    expect({ ...next, runs: next.runs - 1 }).toEqual(plain(state));
  });

  it('refuses to begin from a compact state without the recorded prose', () => {
    const carried = plain(carryCompact(midCampaign(base), proseOf(base)));
    expect(() => beginRun(carried, () => newCampaignState(alert, 'all', policy, now.toISOString()), alert)).toThrow(/needs the recorded plan prose/);
  });
});
