/**
 * The campaign policy: what an operator may tune, its defaults, and the one check every policy
 * passes — where it is read from a file (the CLI, the ingress), before a campaign starts (the
 * client), and when the campaign starts (the `checkPolicy` activity: anyone who can reach
 * Temporal can start one with any input). The zod schema is the one source of the rules; the
 * defaults live in `policy-defaults.ts`, which has no schema library, because the campaign workflow
 * imports it and workflow code carries no zod (docs/performance.md).
 */
import { z } from 'zod';
import { PatchwaveError } from './errors';
import { describeZodIssues } from './issues';
import { MAX_UNAVAILABLE_FRACTION } from './cap';
import { parseDurationMs } from './duration';
import { readPackageSource, type PackageSource } from './package-source';
import { defaultOf, POLICY_DEFAULTS } from './policy-defaults';

export { clusterCap, MAX_UNAVAILABLE_FRACTION } from './cap';
export { POLICY_DEFAULTS } from './policy-defaults';

const DURATION = 'a duration like 500ms, 5s, 2m, 1h or 3d, or a number of milliseconds (≥ 0)';

/** A duration as written: milliseconds, or a number with a unit; in the policy, milliseconds. */
const duration = z.union([z.number(), z.string()], { error: DURATION }).transform((value, ctx) => {
  try {
    return parseDurationMs(value);
  } catch {
    ctx.issues.push({ code: 'custom', message: DURATION, input: value });
    return z.NEVER;
  }
});

/** A whole number from `min` (to `max`). */
const whole = (min: number, max?: number) => {
  const range = max === undefined ? ` ≥ ${min}` : ` from ${min} to ${max}`;
  const base = z.number({ error: `a whole number${range}` }).int(`a whole number${range}`).min(min, `a whole number${range}`);
  return max === undefined ? base : base.max(max, `a whole number${range}`);
};

/** The policy's `packageSource` (docs/policy.md): checked by `readPackageSource`, which the simulator's requests share. */
const packageSourceField = z
  .custom<PackageSource>(() => true)
  .optional()
  .transform((value, ctx) => {
    if (value === undefined) return defaultOf('packageSource');
    const read = readPackageSource(value);
    if (read.ok) return read.value;
    // Its wording names each sub-field and quotes its value: a whole manifest is never echoed.
    ctx.issues.push({ code: 'custom', message: read.expected, input: value, params: { worded: true } });
    return z.NEVER;
  });

export const policySchema = z.strictObject(
  {
    /** Fraction of a cluster that may be out of service at once; lowered, never raised above 25%. */
    maxUnavailableFraction: z
      .number({ error: 'a fraction greater than 0' })
      .gt(0, 'a fraction greater than 0')
      .max(MAX_UNAVAILABLE_FRACTION, 'a fraction of at most 0.25 (the availability cap may be lowered, never raised above 0.25)')
      .default(POLICY_DEFAULTS.maxUnavailableFraction),
    /** `sliding`: the next node starts as soon as a slot frees. `waves`: batch barriers. */
    mode: z.enum(['sliding', 'waves']).default(POLICY_DEFAULTS.mode),
    /** Fleet-wide limit on nodes in flight at once (0 = no limit beyond the per-cluster caps). */
    maxNodesInFlight: whole(0).default(POLICY_DEFAULTS.maxNodesInFlight),
    /**
     * Nodes of a cluster that may prepare (preflight, bundle check, snapshot) while still in service,
     * ahead of a free slot, so a slot is held only from the drain to the rejoin (0 = none: each node
     * prepares in its slot). They count against `maxNodesInFlight` and take only budget that no free
     * slot could use. Never the canary; the rescue node only once every other node has begun.
     */
    prepareAhead: whole(0).default(POLICY_DEFAULTS.prepareAhead),
    /**
     * A node prepared ahead drains on its snapshot only if the snapshot is at most this old when its
     * slot comes; an older one is taken again first (what was written since would be lost on a rollback).
     */
    snapshotMaxAge: duration.default(POLICY_DEFAULTS.snapshotMaxAge),
    /** Failed nodes a cluster tolerates before it halts for an operator (1 = halt on the first). */
    haltAfterFailures: whole(1).default(POLICY_DEFAULTS.haltAfterFailures),
    /**
     * What a cluster's halt stops (docs/architecture.md, "Halt scope"): only that cluster (the others
     * of the tier go on), its whole tier, or the campaign. In-flight nodes always finish.
     */
    haltScope: z.enum(['cluster', 'tier', 'campaign']).default(POLICY_DEFAULTS.haltScope),
    /** Keep one node of each cluster of this size or more unpatched until the rest are done. */
    rescueNodeMinClusterSize: whole(2).default(POLICY_DEFAULTS.rescueNodeMinClusterSize),
    healthCheckInterval: duration.default(POLICY_DEFAULTS.healthCheckInterval),
    /** Consecutive healthy checks that end cool-off; one failure resets the count. */
    healthyChecksRequired: whole(1).default(POLICY_DEFAULTS.healthyChecksRequired),
    coolOffMax: duration.default(POLICY_DEFAULTS.coolOffMax),
    drainTimeout: duration.default(POLICY_DEFAULTS.drainTimeout),
    /** Snapshots of real volumes take minutes; the activity heartbeats while it waits. */
    snapshotTimeout: duration.default(POLICY_DEFAULTS.snapshotTimeout),
    /** Manifest reads and config re-applies run a command on the node (SSM on AWS). */
    commandTimeout: duration.default(POLICY_DEFAULTS.commandTimeout),
    /** Compensation: restoring volumes (stop, swap, start; root volume replacement) takes minutes. */
    restoreTimeout: duration.default(POLICY_DEFAULTS.restoreTimeout),
    patchTimeout: duration.default(POLICY_DEFAULTS.patchTimeout),
    /**
     * How often a running patch command is polled. Each poll is an API call (SSM
     * GetCommandInvocation on AWS, throttled per account), and a patch is seen finished half an
     * interval late on average: seconds for real fleets, less for the simulator.
     */
    patchPollInterval: duration.default(POLICY_DEFAULTS.patchPollInterval),
    /**
     * How long a step before the drain (preflight, snapshot) keeps retrying a fleet API that is
     * unreachable, throttling or answering 5xx before the node ends `failed` — untouched, the reason
     * saying the provider was unreachable. From the drain on, a node is never rolled back because the
     * API blipped: it waits for the provider (a rollback would need it too).
     */
    providerRetryWindow: duration.default(POLICY_DEFAULTS.providerRetryWindow),
    /** How long the rescue node waits after the rest of its cluster has finished cool-off. */
    clusterSettle: duration.default(POLICY_DEFAULTS.clusterSettle),
    /** Monitoring window after each tier, compared with the pre-tier baseline. */
    tierMonitoringWindow: duration.default(POLICY_DEFAULTS.tierMonitoringWindow),
    /** A gate regression: error rate above baseline by this much (absolute), or p99 latency by this factor. */
    regressionErrorRateDelta: z.number().min(0).default(POLICY_DEFAULTS.regressionErrorRateDelta),
    regressionLatencyFactor: z.number().min(1).default(POLICY_DEFAULTS.regressionLatencyFactor),
    /**
     * What the patch installs: `targeted` — the alert's packages at or above their fixed versions,
     * with what the package manager needs, nothing else; `baseline` — every update the node's patch
     * baseline approves (AWS: the baseline as it is; sim: every installed package the repository
     * has newer).
     */
    remediation: z.enum(['targeted', 'baseline']).default(POLICY_DEFAULTS.remediation),
    /**
     * Where the patch installs from: the node's repositories (`default`), an internal `mirror`, or an
     * offline `bundle` verified against its checksum manifest before the node is drained
     * (docs/policy.md).
     */
    packageSource: packageSourceField,
    /**
     * Services still running the replaced library or binary after the patch: `restart` them (their
     * health is then checked by cool-off) and verify again, or `record` the node as `restart-pending`.
     */
    onStaleServices: z.enum(['restart', 'record']).default(POLICY_DEFAULTS.onStaleServices),
    /**
     * A per-CVE check run on the node after the patch (e.g. `sshd -V 2>&1 | grep -q 9.8`): exit status
     * 0 means the vulnerability no longer triggers; anything else fails verification (rolled back).
     */
    checkCommand: z.string().min(1).max(2_000).optional(),
    /** What verify does when a critical config file no longer matches the pre-patch manifest. */
    onConfigDrift: z.enum(['reapply', 'fail']).default(POLICY_DEFAULTS.onConfigDrift),
    /** Reboot behaviour per tier: `NoReboot` for data tiers, restarts orchestrated by us. */
    rebootOption: z.enum(['RebootIfNeeded', 'NoReboot']).default(POLICY_DEFAULTS.rebootOption),
    noRebootRoles: z.array(z.string()).default(() => defaultOf('noRebootRoles')),
    /** Require an operator approval before anything executes. */
    requireApproval: z.boolean().default(POLICY_DEFAULTS.requireApproval),
    /** Tiers that wait for their own approval (`approve --tier N`) before any of their nodes start. */
    approveBeforeTiers: z.array(z.literal([1, 2, 3])).default(() => defaultOf('approveBeforeTiers')),
    /** How long an approval may be awaited before it is escalated (0 = never). */
    approvalTimeout: duration.default(POLICY_DEFAULTS.approvalTimeout),
    /** At the approval timeout: `escalate` (record it, mark the campaign, keep waiting) or `abort`. */
    onApprovalTimeout: z.enum(['escalate', 'abort']).default(POLICY_DEFAULTS.onApprovalTimeout),
    /** Who may approve; empty = anyone. */
    approvers: z.array(z.string()).default(() => defaultOf('approvers')),
    /**
     * Who may pause, resume, abort, retry and skip (by the name each control carries); empty: anyone
     * who can reach the campaign. Approvals are checked against `approvers` (or these, when none).
     */
    operators: z.array(z.string().min(1)).default(() => defaultOf('operators')),
    snapshotRetentionDays: whole(1).default(POLICY_DEFAULTS.snapshotRetentionDays),
    /**
     * The campaign continues as new past this many history events (or when Temporal suggests it),
     * well below the 10,240-event warning. Lower only to exercise continue-as-new in tests.
     */
    historyEventsBeforeContinueAsNew: whole(100, 10_000).default(POLICY_DEFAULTS.historyEventsBeforeContinueAsNew),
  },
  { error: 'a mapping of policy fields' },
);

/** A policy as written (a file, a request): any field may be left out for its default; durations may carry a unit. */
export type PolicyInput = z.input<typeof policySchema>;
/** A policy with every default filled in; durations in milliseconds. */
export type Policy = z.output<typeof policySchema>;

/** Every field a policy may have, in the order they are documented. */
export const POLICY_FIELDS = Object.keys(policySchema.shape) as (keyof Policy)[];

/** The policy is not valid: every issue names the field, what it must be and what it was. */
export class PolicyError extends PatchwaveError {
  constructor(readonly issues: string[]) {
    super(`invalid policy: ${issues.join('; ')}`, 'bad-input');
  }
}

/**
 * Validates and fills defaults. Throws `PolicyError` naming every bad field, what it must be and
 * what it was; a field the policy does not have is refused (a misspelt field would otherwise be a
 * silent default).
 */
export function parsePolicy(input: unknown): Policy {
  const document = input ?? {};
  const result = policySchema.safeParse(document, { reportInput: true });
  if (result.success) return result.data;
  throw new PolicyError(describeZodIssues(result.error.issues, document));
}
