/**
 * Node outcomes as the campaign records them. `preparing` is in flight but in service: it holds no
 * slot (it counts against the fleet-wide limit on nodes in flight). `running` occupies a slot of the cluster's window;
 * `quarantined` also keeps one, because a quarantined node stays out of service.
 */
export type NodeOutcome =
  | 'pending'
  | 'preparing' // started ahead of its slot (policy prepareAhead): preflight and snapshot while still in service, then it waits for its slot
  | 'running'
  | 'patched' // passed verify and cool-off, back in service on the fixed version
  | 'pending-reboot' // the fixed kernel is installed, the old one still runs (no reboot allowed): back in service, not yet fixed
  | 'restart-pending' // the fix is installed, services still run the old code (not restarted): back in service, not yet fixed
  | 'rolled-back' // failed, compensated: back in service on the old version
  | 'quarantined' // failed and compensation failed: kept out of service, recorded
  | 'unhealthy' // failing before we touched it: flagged, never patched
  | 'failed' // failed before anything changed (e.g. the snapshot): still in service on the old version
  | 'skipped'; // an operator chose to skip it

/**
 * The steps of the node saga, in order (`bundle-check` only with a bundle package source, `await-slot`
 * only for a node prepared ahead of its slot); `rollback` is the compensation path.
 */
export const NODE_STEPS = ['preflight', 'bundle-check', 'snapshot', 'await-slot', 'drain', 'patch', 'verify', 'cool-off', 'rejoin'] as const;
export type NodeStep = (typeof NODE_STEPS)[number] | 'rollback' | 'quarantine' | 'done';

export function isTerminal(outcome: NodeOutcome): boolean {
  return outcome !== 'pending' && outcome !== 'running' && outcome !== 'preparing';
}

/** A node whose procedure is in flight: started and not yet reported (holding a slot or not). */
export function inFlight(outcome: NodeOutcome): boolean {
  return outcome === 'running' || outcome === 'preparing';
}

/** Outcomes that count against a cluster's failure budget until an operator resolves them. */
export function isFailure(outcome: NodeOutcome): boolean {
  return outcome === 'rolled-back' || outcome === 'quarantined' || outcome === 'unhealthy' || outcome === 'failed';
}

/** Outcomes that leave the node out of service. */
export function holdsSlot(outcome: NodeOutcome): boolean {
  return outcome === 'running' || outcome === 'quarantined';
}

const OUTCOME_CODES: Record<NodeOutcome, string> = {
  pending: '.',
  preparing: 'p',
  running: 'r',
  patched: 'P',
  'pending-reboot': 'K',
  'restart-pending': 'T',
  'rolled-back': 'B',
  quarantined: 'Q',
  unhealthy: 'U',
  failed: 'F',
  skipped: 'S',
};
const OUTCOME_BY_CODE = Object.fromEntries(Object.entries(OUTCOME_CODES).map(([outcome, code]) => [code, outcome])) as Record<string, NodeOutcome>;

/**
 * Outcomes as one character per node, per cluster, in plan order: what a 10,000-node campaign
 * carries across continue-as-new (about 10 KB instead of a few hundred as a record keyed by node id).
 */
export function encodeOutcomes(clusters: { id: string; nodes: string[] }[], outcomes: Record<string, NodeOutcome>): Record<string, string> {
  const encoded: Record<string, string> = {};
  for (const cluster of clusters) encoded[cluster.id] = cluster.nodes.map((id) => OUTCOME_CODES[outcomes[id] ?? 'pending']).join('');
  return encoded;
}

export function decodeOutcomes(clusters: { id: string; nodes: string[] }[], encoded: Record<string, string>): Record<string, NodeOutcome> {
  const outcomes: Record<string, NodeOutcome> = {};
  for (const cluster of clusters) {
    const codes = encoded[cluster.id] ?? '';
    cluster.nodes.forEach((id, i) => {
      const outcome = OUTCOME_BY_CODE[codes[i] ?? '.'] ?? 'pending';
      if (outcome !== 'pending') outcomes[id] = outcome;
    });
  }
  return outcomes;
}
