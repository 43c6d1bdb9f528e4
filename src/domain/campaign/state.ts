/**
 * The campaign's state: how it begins, how it crosses continue-as-new in compact form, and how a
 * node's final outcome is written into it. Pure.
 */
import type { NormalizedAlert } from '../alert';
import { decodeOutcomes, encodeOutcomes, type NodeOutcome } from '../node-state';
import type { Policy } from '../policy';
import { allClusters } from './queries';
import type { CampaignState } from './types';

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

/** The state a run begins with: its own, or the previous run's unpacked (older versions lack newer fields). */
export function beginRun(carried: CampaignState | undefined, fresh: () => CampaignState, alert: NormalizedAlert): CampaignState {
  const state = carried ?? fresh();
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

/** What continue-as-new carries: the same state with outcomes packed one character per node. */
export function carryForContinueAsNew(state: CampaignState): CampaignState {
  return { ...state, outcomes: {}, packedOutcomes: encodeOutcomes(allClusters(state.plan), state.outcomes) };
}

export interface NodeReport {
  nodeId: string;
  outcome: Exclude<NodeOutcome, 'pending' | 'running' | 'skipped'>;
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
  if ((state.attempts[nodeId] ?? 1) !== attempt || state.outcomes[nodeId] !== 'running') return false;
  recordNodeOutcome(state, { nodeId, outcome: 'quarantined', reason: `${reason}; state unknown, treated as out of service until an operator checks it` });
  return true;
}
