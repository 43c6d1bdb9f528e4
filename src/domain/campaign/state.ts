/**
 * The campaign's state: how it begins, how it crosses continue-as-new in compact form, and how a
 * node's final outcome is written into it. Pure.
 */
import type { NormalizedAlert } from '../alert';
import { decodeOutcomes, encodeOutcomes, inFlight, type NodeOutcome } from '../node-state';
import type { Policy } from '../policy';
import { planCore, proseChanges, restorePlan, type RecordedProse } from './carry';
import { allClusters } from './queries';
import type { CampaignState, CompactCarriedState } from './types';

/** A new campaign, before planning. `now` is an ISO timestamp. */
export function newCampaignState(alert: NormalizedAlert, scope: string, policy: Policy, now: string): CampaignState {
  return {
    plan: { cveId: alert.cveId, scope, tiers: [], totalNodes: 0, notAffected: [] },
    policy,
    startedAt: now,
    phase: 'planning',
    tierIndex: 0,
    tierStage: 'patching',
    outcomes: {},
    attempts: {},
    nodeReasons: {},
    runningSince: {},
    acceptedFailures: {},
    rescueReleaseAt: {},
    paused: false,
    abortRequested: false,
    gateHalt: null,
    gateBaseline: [],
    approvals: [],
    operatorLog: [],
    runs: 0,
    leases: {},
    alert,
    alertsJoined: [],
  };
}

/** True when continue-as-new carried the plan compactly: the run must read the recorded prose back first. */
export function isCompactCarried(carried: CampaignState | CompactCarriedState | undefined): carried is CompactCarriedState {
  return carried !== undefined && 'planCore' in carried;
}

/**
 * The state a run begins with: its own, or the previous run's unpacked (older versions lack newer
 * fields). A compactly carried state needs the plan's recorded prose (`recorded`).
 */
export function beginRun(carried: CampaignState | CompactCarriedState | undefined, fresh: () => CampaignState, alert: NormalizedAlert, recorded?: RecordedProse): CampaignState {
  const state = isCompactCarried(carried) ? unpackCompact(carried, recorded) : (carried ?? fresh());
  state.runs++;
  if (state.packedOutcomes) {
    state.outcomes = decodeOutcomes(allClusters(state.plan), state.packedOutcomes);
    delete state.packedOutcomes;
  }
  state.alert ??= alert;
  state.alertsJoined ??= [];
  state.leases ??= {};
  return state;
}

/** What continue-as-new carried before `compact-carried-plan`: the whole plan, outcomes packed one character per node. */
export function carryForContinueAsNew(state: CampaignState): CampaignState {
  return { ...state, outcomes: {}, packedOutcomes: encodeOutcomes(allClusters(state.plan), state.outcomes) };
}

const LEASE_CODES = { requested: 'q', granted: 'g', released: 'x' } as const;
const LEASE_BY_CODE: Record<string, CampaignState['leases'][string]> = { q: 'requested', g: 'granted', x: 'released' };

/** What continue-as-new carries: the plan's core, what joins changed in its prose, outcomes and leases packed. */
export function carryCompact(state: CampaignState, recorded: RecordedProse): CompactCarriedState {
  const { plan, outcomes, leases, packedOutcomes: _packed, ...rest } = state;
  const clusters = allClusters(plan);
  const encoded = encodeOutcomes(clusters, outcomes);
  const inPlan = new Set(clusters.map((c) => c.id));
  const leasesOther = Object.fromEntries(Object.entries(leases).filter(([id]) => !inPlan.has(id)));
  return {
    ...rest,
    planCore: planCore(plan),
    proseChanges: proseChanges(plan, recorded),
    outcomesPacked: clusters.map((c) => encoded[c.id]).join(''),
    leasesPacked: clusters.map((c) => (leases[c.id] ? LEASE_CODES[leases[c.id]!] : '.')).join(''),
    ...(Object.keys(leasesOther).length > 0 && { leasesOther }),
  };
}

function unpackCompact(carried: CompactCarriedState, recorded: RecordedProse | undefined): CampaignState {
  if (!recorded) throw new Error('a compactly carried campaign state needs the recorded plan prose');
  const { planCore: core, proseChanges: changes, outcomesPacked, leasesPacked, leasesOther, ...rest } = carried;
  const plan = restorePlan(core, recorded, changes);
  const clusters = allClusters(plan);
  const perCluster: Record<string, string> = {};
  let at = 0;
  for (const c of clusters) {
    perCluster[c.id] = outcomesPacked.slice(at, at + c.nodes.length);
    at += c.nodes.length;
  }
  const leases: CampaignState['leases'] = { ...leasesOther };
  clusters.forEach((c, i) => {
    const lease = LEASE_BY_CODE[leasesPacked[i] ?? '.'];
    if (lease) leases[c.id] = lease;
  });
  return { ...rest, plan, outcomes: decodeOutcomes(clusters, perCluster), leases };
}

export interface NodeReport {
  nodeId: string;
  outcome: Exclude<NodeOutcome, 'pending' | 'preparing' | 'running' | 'skipped'>;
  reason?: string;
}

/** The one place a running node's final outcome is written. */
export function recordNodeOutcome(state: CampaignState, report: NodeReport): void {
  state.outcomes[report.nodeId] = report.outcome;
  delete state.runningSince[report.nodeId];
  if (report.reason) state.nodeReasons[report.nodeId] = report.reason;
}

/**
 * A node whose workflow ended without a result (terminated by hand, a bug, never started): it may
 * be drained, so it is recorded as quarantined with why. Only for the current attempt of a running
 * node; returns whether anything changed.
 */
export function recordNodeLost(state: CampaignState, nodeId: string, attempt: number, reason: string): boolean {
  if ((state.attempts[nodeId] ?? 1) !== attempt || !inFlight(state.outcomes[nodeId] ?? 'pending')) return false;
  recordNodeOutcome(state, { nodeId, outcome: 'quarantined', reason: `${reason}; state unknown, treated as out of service until an operator checks it` });
  return true;
}

/**
 * A node prepared ahead of its slot ended without leaving service (`release`): it is pending again,
 * untouched, and starts anew when its cluster moves. Only for the current attempt of a preparing
 * node; returns whether anything changed.
 */
export function recordNodeReleased(state: CampaignState, nodeId: string, attempt: number): boolean {
  if ((state.attempts[nodeId] ?? 1) !== attempt || state.outcomes[nodeId] !== 'preparing') return false;
  delete state.outcomes[nodeId];
  delete state.runningSince[nodeId];
  return true;
}
