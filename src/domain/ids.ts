/**
 * Workflow ids are business keys, built only here. One campaign per CVE and scope:
 * `campaign:CVE-2024-6387:all`; its nodes: `campaign:CVE-2024-6387:all/node:i-0abc`.
 */
export function campaignWorkflowId(cveId: string, scope: string): string {
  return `campaign:${cveId.toUpperCase()}:${scope}`;
}

export function nodeWorkflowId(campaignId: string, nodeId: string, attempt = 1): string {
  return attempt <= 1 ? `${campaignId}/node:${nodeId}` : `${campaignId}/node:${nodeId}/attempt:${attempt}`;
}

/** Idempotency key of one side effect: stable across activity retries, distinct per node attempt and step. */
export function stepKey(nodeWorkflowIdValue: string, step: string): string {
  return `${nodeWorkflowIdValue}#${step}`;
}

/**
 * One lease workflow per cluster, shared by every campaign that patches it. Cluster ids are unique
 * within a fleet, and a fleet is served by its workers' task queue, so the queue scopes the key.
 */
export function clusterLeaseWorkflowId(taskQueue: string, clusterId: string): string {
  return `lease:${taskQueue}:cluster:${clusterId}`;
}
