/**
 * Node outcomes as the campaign records them. `running` occupies a slot of the cluster's window;
 * `quarantined` also keeps one, because a quarantined node stays out of service.
 */
export type NodeOutcome =
  | 'pending'
  | 'running'
  | 'patched' // passed verify and cool-off, back in service on the fixed version
  | 'rolled-back' // failed, compensated: back in service on the old version
  | 'quarantined' // failed and compensation failed: kept out of service, recorded
  | 'unhealthy' // failing before we touched it: flagged, never patched
  | 'failed' // failed before anything changed (e.g. the snapshot): still in service on the old version
  | 'skipped'; // an operator chose to skip it

/** The steps of the node saga, in order; `rollback` is the compensation path. */
export const NODE_STEPS = ['preflight', 'snapshot', 'drain', 'patch', 'verify', 'cool-off', 'rejoin'] as const;
export type NodeStep = (typeof NODE_STEPS)[number] | 'rollback' | 'quarantine' | 'done';

export function isTerminal(outcome: NodeOutcome): boolean {
  return outcome !== 'pending' && outcome !== 'running';
}

/** Outcomes that count against a cluster's failure budget until an operator resolves them. */
export function isFailure(outcome: NodeOutcome): boolean {
  return outcome === 'rolled-back' || outcome === 'quarantined' || outcome === 'unhealthy' || outcome === 'failed';
}

/** Outcomes that leave the node out of service. */
export function holdsSlot(outcome: NodeOutcome): boolean {
  return outcome === 'running' || outcome === 'quarantined';
}
