/**
 * The policy's defaults, once: the zod schema (`policy.ts`) reads them for its `.default(...)`s, and
 * campaigns that started before their policy was checked outside the workflow bundle fill them in
 * with `policyWithDefaults`. No schema library here: the campaign workflow imports this module, and
 * workflow code is bundled and evaluated anew for every execution (docs/performance.md).
 */
import { MAX_UNAVAILABLE_FRACTION } from './cap';
import { parseDurationMs } from './duration';
import type { Remediation } from './fleet';
import { readPackageSource, type PackageSource } from './package-source';
import type { Policy } from './policy';

/** Fields written as durations: a number of milliseconds, or `500ms`, `5s`, `2m`, `1h`, `3d`. */
export const DURATION_FIELDS = [
  'healthCheckInterval',
  'coolOffMax',
  'drainTimeout',
  'snapshotTimeout',
  'commandTimeout',
  'restoreTimeout',
  'patchTimeout',
  'patchPollInterval',
  'providerRetryWindow',
  'clusterSettle',
  'tierMonitoringWindow',
  'approvalTimeout',
  'snapshotMaxAge',
] as const;

// Typed here, not from `Policy`: the schema's type is built from these values.
export const POLICY_DEFAULTS = {
  maxUnavailableFraction: MAX_UNAVAILABLE_FRACTION,
  mode: 'sliding' as 'sliding' | 'waves',
  maxNodesInFlight: 0,
  prepareAhead: 0,
  snapshotMaxAge: 15 * 60_000,
  haltAfterFailures: 1,
  haltScope: 'cluster' as 'cluster' | 'tier' | 'campaign',
  rescueNodeMinClusterSize: 3,
  healthCheckInterval: 1_000,
  healthyChecksRequired: 3,
  coolOffMax: 60_000,
  drainTimeout: 30_000,
  snapshotTimeout: 30 * 60_000,
  commandTimeout: 5 * 60_000,
  restoreTimeout: 30 * 60_000,
  patchTimeout: 15 * 60_000,
  patchPollInterval: 2_000,
  providerRetryWindow: 5 * 60_000,
  clusterSettle: 0,
  tierMonitoringWindow: 5_000,
  regressionErrorRateDelta: 0.02,
  regressionLatencyFactor: 1.5,
  remediation: 'targeted' as Remediation,
  packageSource: { kind: 'default' } as PackageSource,
  onStaleServices: 'restart' as 'restart' | 'record',
  onConfigDrift: 'reapply' as 'reapply' | 'fail',
  rebootOption: 'RebootIfNeeded' as 'RebootIfNeeded' | 'NoReboot',
  noRebootRoles: ['database', 'queue', 'cache'] as string[],
  requireApproval: false,
  approveBeforeTiers: [] as (1 | 2 | 3)[],
  approvalTimeout: 0,
  onApprovalTimeout: 'escalate' as 'escalate' | 'abort',
  approvers: [] as string[],
  operators: [] as string[],
  snapshotRetentionDays: 14,
  historyEventsBeforeContinueAsNew: 8_000,
};

/** A default's own copy: a default list is never shared between two policies. */
export function defaultOf<K extends keyof typeof POLICY_DEFAULTS>(name: K): (typeof POLICY_DEFAULTS)[K] {
  const value = POLICY_DEFAULTS[name];
  return typeof value === 'object' && value !== null ? (JSON.parse(JSON.stringify(value)) as typeof value) : value;
}

/**
 * A policy that was already checked (`parsePolicy`) when its campaign started, with its defaults
 * filled in as the check filled them — without checking it again. Only for campaigns started
 * before the check moved out of the workflow bundle (patched('policy-checked-outside-the-bundle')):
 * never call it on a policy nobody has checked.
 */
export function policyWithDefaults(raw: unknown): Policy {
  const written = (raw ?? {}) as Record<string, unknown>;
  const policy: Record<string, unknown> = {};
  for (const name of Object.keys(POLICY_DEFAULTS) as (keyof typeof POLICY_DEFAULTS)[]) {
    const value = written[name];
    if (value === undefined) policy[name] = defaultOf(name);
    else if ((DURATION_FIELDS as readonly string[]).includes(name)) policy[name] = parseDurationMs(value as number | string, name);
    else if (name === 'packageSource') {
      const source = readPackageSource(value);
      policy[name] = source.ok ? source.value : value;
    } else policy[name] = JSON.parse(JSON.stringify(value)) as unknown;
  }
  if (written.checkCommand !== undefined) policy.checkCommand = written.checkCommand;
  return policy as unknown as Policy;
}
