/**
 * The campaign's core as a model: random plans, random interleavings of node outcomes, operator
 * controls (valid and not), lease grants, time and continue-as-new round trips — driven through the
 * same functions the workflow calls (scheduler, operator rules, state), with the safety invariants
 * checked after every step and liveness checked by driving every run to its end.
 *
 * PATCHWAVE_MODEL_RUNS raises the number of generated runs (default 1,000 in the suite; clusters up to PATCHWAVE_MODEL_MAX_CLUSTER nodes, default 24).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyControl, refusalOf, type Control } from '../../../src/domain/campaign/operator';
import { allClusters, currentTier, haltedClusters, runningCount } from '../../../src/domain/campaign/queries';
import { decideStarts, markPreparing, markRunning, slotVerdict, tierFinished } from '../../../src/domain/campaign/scheduler';
import { decodeProse, encodeProse, recordedOrder, type EncodedProse } from '../../../src/domain/campaign/carry';
import { beginRun, carryCompact, carryForContinueAsNew, isCompactCarried, newCampaignState, recordNodeOutcome, recordNodeReleased } from '../../../src/domain/campaign/state';
import { clusterApproved, haltStops } from '../../../src/domain/campaign/status';
import type { CampaignState, CompactCarriedState } from '../../../src/domain/campaign/types';
import { holdsSlot, isTerminal, type NodeOutcome } from '../../../src/domain/node-state';
import type { CampaignPlan, ClusterPlan } from '../../../src/domain/plan';
import { parsePolicy } from '../../../src/domain/policy';
import { runs } from '../support/mutation';

const RUNS = runs(Number(process.env.PATCHWAVE_MODEL_RUNS ?? 1_000));
const MAX_CLUSTER = Number(process.env.PATCHWAVE_MODEL_MAX_CLUSTER ?? 24);

const alert = { cveId: 'CVE-2024-6387', packages: [{ name: 'openssh-server', fixedVersion: '9.8.1' }], scope: 'all', source: 'generic' as const };

const clusterArb = fc.record({ size: fc.integer({ min: 1, max: MAX_CLUSTER }), fraction: fc.constantFrom(0.05, 0.1, 0.2, 0.25) });
const planArb = fc.array(fc.array(clusterArb, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 3 }).map((tiers): CampaignPlan => {
  let n = 0;
  const planTiers = tiers.map((clusters, t) => ({
    tier: (t + 1) as 1 | 2 | 3,
    clusters: clusters.map(({ size, fraction }, c): ClusterPlan => {
      const id = `t${t + 1}c${c}`;
      const nodes = Array.from({ length: size }, (_, i) => `${id}-n${i}`);
      n += size;
      return { id, tier: (t + 1) as 1 | 2 | 3, nodes, canary: nodes[0]!, rescue: size >= 3 ? nodes[size - 1] : undefined, cap: Math.max(1, Math.floor(size * fraction)), size, needsApproval: size === 1, noReboot: false, reason: 'model' };
    }),
  }));
  return { cveId: alert.cveId, scope: 'all', tiers: planTiers, totalNodes: n, notAffected: [] };
});
const policyArb = fc.record({
  mode: fc.constantFrom('sliding' as const, 'waves' as const),
  maxNodesInFlight: fc.constantFrom(0, 1, 3, 10),
  haltAfterFailures: fc.integer({ min: 1, max: 3 }),
  clusterSettle: fc.constantFrom(0, 50),
  approvers: fc.constantFrom([] as string[], ['alice']),
  haltScope: fc.constantFrom('cluster' as const, 'tier' as const, 'campaign' as const),
  prepareAhead: fc.constantFrom(0, 0, 1, 3),
});
const FINAL: NodeOutcome[] = ['patched', 'patched', 'patched', 'pending-reboot', 'restart-pending', 'rolled-back', 'quarantined', 'unhealthy', 'failed'];

type Step =
  | { kind: 'schedule' }
  | { kind: 'finish'; pick: number; outcome: number }
  | { kind: 'released'; pick: number }
  | { kind: 'grant'; pick: number }
  | { kind: 'control'; control: number; pick: number; by: number }
  | { kind: 'time'; ms: number }
  | { kind: 'continue-as-new' }
  | { kind: 'next-tier' };
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ kind: 'schedule' as const }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('finish' as const), pick: fc.nat(), outcome: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('grant' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('released' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('control' as const), control: fc.nat(), pick: fc.nat(), by: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('time' as const), ms: fc.integer({ min: 1, max: 100 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'continue-as-new' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'next-tier' as const }) },
);

/** The model: the core's state plus what the fleet and the lease workflows would see. */
class Model {
  now = 1_000_000;
  readonly started = new Set<string>();
  readonly leasesAsked: string[] = [];
  stoppedAt: number | undefined;
  constructor(
    public state: CampaignState,
    readonly useLeases: boolean,
  ) {}

  clusters(): ClusterPlan[] {
    return allClusters(this.state.plan);
  }

  /** What the workflow's tier loop does: start what the scheduler says, checking every start against the rules. */
  schedule(): void {
    const s = this.state;
    const tier = currentTier(s);
    if (!tier || s.tierStage !== 'patching') return;
    const actions = decideStarts(s, tier, { useLeases: this.useLeases, budgetToCriticalPathsFirst: true, now: this.now });
    for (const action of actions) {
      if (action.kind === 'request-lease') {
        expect(this.leasesAsked, 'a lease asked twice').not.toContain(action.cluster.id);
        this.leasesAsked.push(action.cluster.id);
        continue;
      }
      const { cluster, nodeId } = action;
      const outcome = (id: string) => s.outcomes[id] ?? 'pending';
      if (action.kind === 'release') {
        expect(outcome(nodeId), `${nodeId} released while ${outcome(nodeId)}`).toBe('preparing');
        expect(slotVerdict(s, nodeId, s.attempts[nodeId] ?? 1), 'released while the campaign would still give it a slot').toBe('release');
        this.toldToRelease.add(nodeId);
        continue;
      }
      expect(s.paused || s.abortRequested, 'started while paused or aborting').toBe(false);
      expect(haltStops(cluster, tier, s), 'started where a halt stops it (its cluster, or its tier by halt scope)').toBe(false);
      expect(clusterApproved(cluster, s), 'started in a cluster awaiting approval').toBe(true);
      if (this.useLeases) expect(s.leases[cluster.id], 'started without the lease').toBe('granted');
      expect(tier.clusters, 'started outside the current tier').toContain(cluster);
      for (const earlier of s.plan.tiers.slice(0, s.tierIndex)) expect(tierFinished(earlier, s), 'a later tier started before an earlier one finished').toBe(true);
      if (action.kind === 'start-node' || action.kind === 'prepare-node') {
        const key = `${nodeId}#${s.attempts[nodeId] ?? 1}#${this.releases.get(nodeId) ?? 0}`;
        expect(this.started.has(key), `${key} started twice`).toBe(false);
        this.started.add(key);
        expect(outcome(nodeId), `${nodeId} started while ${outcome(nodeId)}`).toBe('pending');
      }
      if (action.kind === 'prepare-node') {
        expect(nodeId, 'the canary prepared ahead').not.toBe(cluster.canary);
        expect(outcome(cluster.canary), 'a node prepared before its canary began').not.toBe('pending');
        if (nodeId === cluster.rescue) expect(cluster.nodes.filter((id) => id !== nodeId && outcome(id) === 'pending'), 'the rescue node prepared before the others began').toEqual([]);
        markPreparing(s, nodeId, this.now);
        const preparing = cluster.nodes.filter((id) => outcome(id) === 'preparing').length;
        expect(preparing, `${cluster.id}: more nodes preparing than prepareAhead`).toBeLessThanOrEqual(s.policy.prepareAhead);
        continue;
      }
      if (action.kind === 'proceed') expect(outcome(nodeId), `${nodeId} proceeded while ${outcome(nodeId)}`).toBe('preparing');
      // Taking a slot (a start, or a proceed after preparing): the window's rules.
      if (nodeId !== cluster.canary) expect(isTerminal(outcome(cluster.canary)), 'the window opened before the canary finished').toBe(true);
      if (nodeId === cluster.canary) expect(cluster.nodes.filter((id) => outcome(id) === 'running'), 'the canary did not go alone').toEqual([]);
      if (nodeId === cluster.rescue) {
        expect(cluster.nodes.filter((id) => id !== nodeId).every((id) => isTerminal(outcome(id))), 'the rescue node went before the others finished').toBe(true);
        expect((s.rescueReleaseAt[cluster.id] ?? Infinity) <= this.now, 'the rescue node went before the settle time').toBe(true);
      }
      markRunning(s, nodeId, this.now);
    }
  }

  /** Preparing nodes the campaign told their slot would not come; they end `released` when the model says so. */
  readonly toldToRelease = new Set<string>();
  /** How often each node was released (a node may prepare again after a resume). */
  readonly releases = new Map<string, number>();

  released(pick: number): void {
    const told = [...this.toldToRelease].filter((id) => this.state.outcomes[id] === 'preparing');
    this.toldToRelease.clear();
    if (told.length === 0) return;
    // Some of them end now; the others are told again at the next look.
    for (const nodeId of told.slice(0, (pick % told.length) + 1)) {
      expect(recordNodeReleased(this.state, nodeId, this.state.attempts[nodeId] ?? 1)).toBe(true);
      this.releases.set(nodeId, (this.releases.get(nodeId) ?? 0) + 1);
    }
  }

  running(): string[] {
    return Object.keys(this.state.runningSince).filter((id) => this.state.outcomes[id] === 'running');
  }

  preparing(): string[] {
    return Object.keys(this.state.runningSince).filter((id) => this.state.outcomes[id] === 'preparing');
  }

  finish(pick: number, outcomeIndex: number): void {
    const running = [...this.running(), ...this.preparing()];
    if (running.length === 0) return;
    const nodeId = running[pick % running.length]!;
    // A node that fails while preparing is still untouched: unhealthy before the patch, or failed (its snapshot).
    const outcomes = this.state.outcomes[nodeId] === 'preparing' ? (['unhealthy', 'failed'] as const) : FINAL;
    const outcome = outcomes[outcomeIndex % outcomes.length] as Exclude<NodeOutcome, 'pending' | 'preparing' | 'running' | 'skipped'>;
    recordNodeOutcome(this.state, { nodeId, outcome, reason: outcome === 'patched' ? undefined : 'model' });
  }

  grant(pick: number): void {
    const waiting = Object.keys(this.state.leases).filter((id) => this.state.leases[id] === 'requested');
    if (waiting.length) this.state.leases[waiting[pick % waiting.length]!] = 'granted';
  }

  control(index: number, pick: number, by: number): void {
    const nodes = this.clusters().flatMap((c) => c.nodes);
    const node = pick % 7 === 0 ? 'no-such-node' : nodes[pick % nodes.length]!;
    const clusters = this.clusters();
    const kinds: Control[] = [
      { kind: 'pause', by: 'op' },
      { kind: 'resume', by: 'op' },
      { kind: 'abort', by: 'op' },
      { kind: 'approve', by: by % 3 === 0 ? 'mallory' : 'alice', reason: by % 5 === 0 ? ' ' : 'CAB-1', cluster: by % 2 ? clusters[pick % clusters.length]!.id : '*' },
      { kind: 'approve', by: 'alice', reason: 'CAB-2', tier: (by % 4) + 1 },
      { kind: 'retry', node, by: 'op' },
      { kind: 'skip', node, by: 'op', reason: 'model' },
    ];
    const control = kinds[index % kinds.length]!;
    const before = JSON.stringify(this.state);
    const refusal = refusalOf(this.state, control);
    expect(JSON.stringify(this.state), 'judging a control changed the state').toBe(before);
    if (refusal) return;
    if (control.kind === 'abort') this.stoppedAt = this.started.size;
    applyControl(this.state, control, new Date(this.now).toISOString());
  }

  /** The plan's prose as the first run recorded it (what a compactly carried run reads back). */
  private recordedProse: EncodedProse | undefined;
  get recorded(): EncodedProse {
    return (this.recordedProse ??= encodeProse(this.state.plan));
  }

  /**
   * What continue-as-new carries must come back equal (only the run counter moves): the compact form
   * (plan core, prose read back) and, every other time, the whole plan as older versions carried it.
   */
  continueAsNew(): void {
    const compact = this.state.runs % 2 === 0;
    const carried = JSON.parse(JSON.stringify(compact ? carryCompact(this.state, decodeProse(this.recorded, this.clusters().map((c) => c.id))) : carryForContinueAsNew(this.state))) as CampaignState | CompactCarriedState;
    const prose = isCompactCarried(carried) ? decodeProse(JSON.parse(JSON.stringify(this.recorded)) as EncodedProse, recordedOrder(carried.planCore, carried.proseChanges)) : undefined;
    const next = beginRun(carried, () => {
      throw new Error('carried state expected');
    }, alert, prose);
    expect({ ...next, runs: next.runs - 1 }).toEqual(JSON.parse(JSON.stringify(this.state)));
    this.state = next;
  }

  /** What the workflow does when a tier's last node finishes (monitoring window off). */
  nextTier(): void {
    const s = this.state;
    const tier = currentTier(s);
    if (!tier || !tierFinished(tier, s) || s.abortRequested) return;
    s.tierIndex++;
    s.tierStage = 'patching';
  }

  /** Safety after every step. */
  checkInvariants(): void {
    const s = this.state;
    for (const cluster of this.clusters()) {
      const out = cluster.nodes.filter((id) => holdsSlot(s.outcomes[id] ?? 'pending')).length;
      // Quarantined nodes hold a slot: a halt keeps new starts away, so running + quarantined stays within the cap.
      expect(out, `${cluster.id}: ${out} out of service, cap ${cluster.cap}`).toBeLessThanOrEqual(cluster.cap);
    }
    if (s.policy.maxNodesInFlight > 0) expect(runningCount(s)).toBeLessThanOrEqual(s.policy.maxNodesInFlight);
    for (const cluster of this.clusters()) {
      const preparing = cluster.nodes.filter((id) => s.outcomes[id] === 'preparing');
      expect(preparing.length, `${cluster.id}: more nodes preparing than prepareAhead`).toBeLessThanOrEqual(s.policy.prepareAhead);
      for (const id of preparing) expect(slotVerdict(s, id, s.attempts[id] ?? 1), `${id} is preparing: no slot yet`).not.toBe('proceed');
    }
    for (const id of this.running()) expect(slotVerdict(s, id, s.attempts[id] ?? 1), `${id} holds its slot`).toBe('proceed');
    if (this.stoppedAt !== undefined) expect(this.started.size, 'a node started after abort').toBe(this.stoppedAt);
  }

  /** Liveness: an operator who keeps answering (resume, approve, leases granted) and a fleet that finishes what it started end the campaign. */
  driveToEnd(): void {
    const s = this.state;
    for (let round = 0; round < 10_000; round++) {
      for (const id of this.running()) recordNodeOutcome(s, { nodeId: id, outcome: 'patched' });
      this.released(Number.MAX_SAFE_INTEGER - 1);
      this.checkInvariants();
      if (s.abortRequested) {
        // Preparing nodes are told to go (and end released) before the campaign closes.
        if (this.preparing().length === 0) return;
        this.schedule();
        continue;
      }
      const tier = currentTier(s);
      if (!tier) return;
      if (s.paused || haltedClusters(s).length > 0) applyControl(s, { kind: 'resume', by: 'model' }, new Date(this.now).toISOString());
      for (const cluster of tier.clusters) if (!clusterApproved(cluster, s)) applyControl(s, { kind: 'approve', by: 'alice', reason: 'model', cluster: cluster.id }, new Date(this.now).toISOString());
      for (const id of Object.keys(s.leases)) if (s.leases[id] === 'requested') s.leases[id] = 'granted';
      this.now += 100;
      const before = this.started.size;
      this.schedule();
      this.checkInvariants();
      this.nextTier();
      // A quarantined node keeps its slot for good; the documented way on is to repair it and retry.
      if (this.started.size === before && this.running().length === 0 && this.preparing().length === 0 && currentTier(s) === tier && !tierFinished(tier, s)) {
        for (const id of tier.clusters.flatMap((c) => c.nodes)) if (s.outcomes[id] === 'quarantined') applyControl(s, { kind: 'retry', node: id, by: 'model' }, new Date(this.now).toISOString());
      }
    }
    throw new Error('the campaign did not end within 10,000 rounds');
  }
}

describe('the campaign core as a model', () => {
  it(`holds every safety rule under random interleavings and always reaches the end (${RUNS} runs)`, () => {
    let steps = 0;
    fc.assert(
      fc.property(planArb, policyArb, fc.boolean(), fc.array(stepArb, { maxLength: 150 }), (plan, policyInput, useLeases, script) => {
        const policy = parsePolicy({ ...policyInput, maxUnavailableFraction: 0.25 });
        const state = newCampaignState(alert, 'all', policy, new Date(0).toISOString());
        state.plan = plan;
        const model = new Model(state, useLeases);
        for (const step of script) {
          steps++;
          if (step.kind === 'schedule') model.schedule();
          else if (step.kind === 'finish') model.finish(step.pick, step.outcome);
          else if (step.kind === 'released') model.released(step.pick);
          else if (step.kind === 'grant') model.grant(step.pick);
          else if (step.kind === 'control') model.control(step.control, step.pick, step.by);
          else if (step.kind === 'time') model.now += step.ms;
          else if (step.kind === 'continue-as-new') model.continueAsNew();
          else model.nextTier();
          model.checkInvariants();
        }
        model.driveToEnd();
        const s = model.state;
        const nodes = allClusters(s.plan).flatMap((c) => c.nodes);
        if (s.abortRequested) expect(runningCount(s), 'aborted with nodes still running').toBe(0);
        else expect(nodes.filter((id) => !isTerminal(s.outcomes[id] ?? 'pending')), 'nodes left without a final outcome').toEqual([]);
      }),
      { numRuns: RUNS },
    );
    expect(steps).toBeGreaterThan(RUNS);
  }, 120_000);
});
