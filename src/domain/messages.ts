/**
 * Shapes of the messages a campaign accepts from outside. Anyone who can reach the Temporal frontend
 * can send any signal with any payload (`temporal workflow signal --input null`), so every handler
 * checks the shape here first and refuses what does not fit, with a reason — never by throwing inside
 * a workflow task. Plain checks, no schema library: this runs in the workflow bundle for every node.
 */

export type Checked<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Longest free text (a reason, a name) kept from a message: a forged one cannot bloat the state. */
export const MAX_TEXT = 500;
// Ids are whatever the inventory and the scope use; only emptiness, control characters and length are refused.
const ID_PATTERN = /^[^\u0000-\u0020\u007f]{1,256}$/;
const NODE_OUTCOMES_REPORTED = ['patched', 'pending-reboot', 'restart-pending', 'rolled-back', 'quarantined', 'unhealthy', 'failed'] as const;

export interface OperatorNote {
  by?: string;
  reason?: string;
}
export interface NodeControl extends OperatorNote {
  node: string;
}
export interface ApprovalRequest {
  by: string;
  reason: string;
  cluster?: string;
  tier?: number;
}
export interface NodeFinishedClaim {
  nodeId: string;
  attempt: number;
  outcome: (typeof NODE_OUTCOMES_REPORTED)[number];
  reason?: string;
}

const ok = <T>(value: T): Checked<T> => ({ ok: true, value });
const refuse = <T>(reason: string): Checked<T> => ({ ok: false, reason });

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? `"${value.slice(0, 40)}"` : typeof value;
}

/** Optional text fields: absent, or a string no longer than MAX_TEXT. */
function optionalText(record: Record<string, unknown>, field: string, what: string): string | undefined | Error {
  const value = record[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') return new Error(`${what}.${field} must be a string, got ${describe(value)}`);
  if (value.length > MAX_TEXT) return new Error(`${what}.${field} is longer than ${MAX_TEXT} characters`);
  return value;
}

function id(record: Record<string, unknown>, field: string, what: string): string | Error {
  const value = record[field];
  if (typeof value !== 'string' || !ID_PATTERN.test(value)) return new Error(`${what}.${field} must be an id (1–256 characters, no spaces or control characters), got ${describe(value)}`);
  return value;
}

/** pause, resume, abort: no argument, or `{ by?, reason? }`. */
export function checkOperatorNote(raw: unknown, what: string): Checked<OperatorNote> {
  if (raw === undefined) return ok({});
  if (!isRecord(raw)) return refuse(`${what} takes { by?, reason? }, got ${describe(raw)}`);
  const by = optionalText(raw, 'by', what);
  const reason = optionalText(raw, 'reason', what);
  for (const value of [by, reason]) if (value instanceof Error) return refuse(value.message);
  return ok({ by: by as string | undefined, reason: reason as string | undefined });
}

/** retry and skip: `{ node, by?, reason? }`. */
export function checkNodeControl(raw: unknown, what: string): Checked<NodeControl> {
  if (!isRecord(raw)) return refuse(`${what} takes { node, by?, reason? }, got ${describe(raw)}`);
  const node = id(raw, 'node', what);
  if (node instanceof Error) return refuse(node.message);
  const note = checkOperatorNote({ by: raw.by, reason: raw.reason }, what);
  return note.ok ? ok({ node, ...note.value }) : note;
}

/** approve: `{ by, reason, cluster?, tier? }`; the campaign's own rules (approvers, known tier) come after. */
export function checkApproval(raw: unknown, what = 'approve'): Checked<ApprovalRequest> {
  if (!isRecord(raw)) return refuse(`${what} takes { by, reason, cluster?, tier? }, got ${describe(raw)}`);
  const note = checkOperatorNote({ by: raw.by, reason: raw.reason }, what);
  if (!note.ok) return note;
  const approval: ApprovalRequest = { by: note.value.by ?? '', reason: note.value.reason ?? '' };
  if (raw.cluster !== undefined && raw.cluster !== null) {
    if (raw.cluster !== '*') {
      const cluster = id(raw, 'cluster', what);
      if (cluster instanceof Error) return refuse(cluster.message);
    }
    approval.cluster = raw.cluster as string;
  }
  if (raw.tier !== undefined && raw.tier !== null) {
    if (typeof raw.tier !== 'number' || !Number.isInteger(raw.tier) || raw.tier < 1 || raw.tier > 99) return refuse(`${what}.tier must be a tier number (1, 2, 3…), got ${describe(raw.tier)}`);
    approval.tier = raw.tier;
  }
  return ok(approval);
}

/** nodeFinished: what a node workflow says it did. Only a claim: the campaign checks it against the node's real result. */
export function checkNodeFinished(raw: unknown): Checked<NodeFinishedClaim> {
  const what = 'nodeFinished';
  if (!isRecord(raw)) return refuse(`${what} takes { nodeId, attempt, outcome, reason? }, got ${describe(raw)}`);
  const nodeId = id(raw, 'nodeId', what);
  if (nodeId instanceof Error) return refuse(nodeId.message);
  if (typeof raw.attempt !== 'number' || !Number.isInteger(raw.attempt) || raw.attempt < 1) return refuse(`${what}.attempt must be a positive integer, got ${describe(raw.attempt)}`);
  if (!NODE_OUTCOMES_REPORTED.includes(raw.outcome as NodeFinishedClaim['outcome'])) return refuse(`${what}.outcome must be one of ${NODE_OUTCOMES_REPORTED.join(', ')}, got ${describe(raw.outcome)}`);
  const reason = optionalText(raw, 'reason', what);
  if (reason instanceof Error) return refuse(reason.message);
  return ok({ nodeId, attempt: raw.attempt, outcome: raw.outcome as NodeFinishedClaim['outcome'], ...(reason ? { reason } : {}) });
}

/** A node workflow's result that says it was released before its slot came (prepared ahead, never drained). */
export function checkNodeReleased(raw: unknown): { nodeId: string; attempt: number } | undefined {
  if (!isRecord(raw) || raw.outcome !== 'released' || typeof raw.nodeId !== 'string' || typeof raw.attempt !== 'number') return undefined;
  return { nodeId: raw.nodeId, attempt: raw.attempt };
}

/** leaseGranted: `{ clusterId }`. */
export function checkLeaseGranted(raw: unknown): Checked<{ clusterId: string }> {
  if (!isRecord(raw)) return refuse(`leaseGranted takes { clusterId }, got ${describe(raw)}`);
  const clusterId = id(raw, 'clusterId', 'leaseGranted');
  return clusterId instanceof Error ? refuse(clusterId.message) : ok({ clusterId });
}

/** acquireLease and releaseLease: `{ holder }`, a campaign's workflow id. */
export function checkLeaseHolder(raw: unknown, what: string): Checked<{ holder: string }> {
  if (!isRecord(raw)) return refuse(`${what} takes { holder }, got ${describe(raw)}`);
  const holder = id(raw, 'holder', what);
  return holder instanceof Error ? refuse(holder.message) : ok({ holder });
}
