import { z } from 'zod';
import { MAX_UNAVAILABLE_FRACTION } from './cap';
import { parseDurationMs } from './duration';
import { readPackageSource, type PackageSource } from './package-source';

export { clusterCap, MAX_UNAVAILABLE_FRACTION } from './cap';


const duration = z.union([z.number(), z.string()]).transform((value, ctx) => {
  try {
    return parseDurationMs(value, 'duration');
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});

/** The policy's `packageSource` (docs/policy.md): checked by `readPackageSource`, which has no schema library in it. */
const packageSourceField = z
  .custom<PackageSource>(() => true)
  .optional()
  .transform((value, ctx) => {
    if (value === undefined) return { kind: 'default' } as PackageSource;
    const read = readPackageSource(value);
    if (read.ok) return read.value;
    // The message quotes the offending values itself: no "(got …)" of the whole source (a manifest can be long).
    ctx.addIssue({ code: 'custom', message: read.expected, params: { received: undefined } });
    return z.NEVER;
  });

export const policySchema = z
  .object({
    /** Fraction of a cluster that may be out of service at once; lowered, never raised above 25%. */
    maxUnavailableFraction: z
      .number()
      .gt(0, 'must be greater than 0')
      .max(MAX_UNAVAILABLE_FRACTION, 'may be lowered, never raised above 0.25 (the 25% availability cap)')
      .default(MAX_UNAVAILABLE_FRACTION),
    /** `sliding`: the next node starts as soon as a slot frees. `waves`: batch barriers. */
    mode: z.enum(['sliding', 'waves']).default('sliding'),
    /** Fleet-wide limit on nodes in flight at once (0 = no limit beyond the per-cluster caps). */
    maxNodesInFlight: z.number().int().min(0).default(0),
    /** Failed nodes a cluster tolerates before it halts for an operator (1 = halt on the first). */
    haltAfterFailures: z.number().int().min(1).default(1),
    /**
     * What a cluster's halt stops (docs/architecture.md, "Halt scope"): only that cluster (the others
     * of the tier go on), its whole tier, or the campaign. In-flight nodes always finish.
     */
    haltScope: z.enum(['cluster', 'tier', 'campaign']).default('cluster'),
    /** Keep one node of each cluster of this size or more unpatched until the rest are done. */
    rescueNodeMinClusterSize: z.number().int().min(2).default(3),
    healthCheckInterval: duration.default(1_000),
    /** Consecutive healthy checks that end cool-off; one failure resets the count. */
    healthyChecksRequired: z.number().int().min(1).default(3),
    coolOffMax: duration.default(60_000),
    drainTimeout: duration.default(30_000),
    /** Snapshots of real volumes take minutes; the activity heartbeats while it waits. */
    snapshotTimeout: duration.default(30 * 60_000),
    /** Manifest reads and config re-applies run a command on the node (SSM on AWS). */
    commandTimeout: duration.default(5 * 60_000),
    /** Compensation: restoring volumes (stop, swap, start; root volume replacement) takes minutes. */
    restoreTimeout: duration.default(30 * 60_000),
    patchTimeout: duration.default(15 * 60_000),
    /**
     * How often a running patch command is polled. Each poll is an API call (SSM
     * GetCommandInvocation on AWS, throttled per account), and a patch is seen finished half an
     * interval late on average: seconds for real fleets, less for the simulator.
     */
    patchPollInterval: duration.default(2_000),
    /**
     * How long a step before the drain (preflight, snapshot) keeps retrying a fleet API that is
     * unreachable, throttling or answering 5xx before the node ends `failed` — untouched, the reason
     * saying the provider was unreachable. From the drain on, a node is never rolled back because the
     * API blipped: it waits for the provider (a rollback would need it too).
     */
    providerRetryWindow: duration.default(5 * 60_000),
    /** How long the rescue node waits after the rest of its cluster has finished cool-off. */
    clusterSettle: duration.default(0),
    /** Monitoring window after each tier, compared with the pre-tier baseline. */
    tierMonitoringWindow: duration.default(5_000),
    /** A gate regression: error rate above baseline by this much (absolute), or p99 latency by this factor. */
    regressionErrorRateDelta: z.number().min(0).default(0.02),
    regressionLatencyFactor: z.number().min(1).default(1.5),
    /**
     * What the patch installs: `targeted` — the alert's packages at or above their fixed versions,
     * with what the package manager needs, nothing else; `baseline` — every update the node's patch
     * baseline approves (AWS: the baseline as it is; sim: every installed package the repository
     * has newer).
     */
    remediation: z.enum(['targeted', 'baseline']).default('targeted'),
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
    onStaleServices: z.enum(['restart', 'record']).default('restart'),
    /**
     * A per-CVE check run on the node after the patch (e.g. `sshd -V 2>&1 | grep -q 9.8`): exit status
     * 0 means the vulnerability no longer triggers; anything else fails verification (rolled back).
     */
    checkCommand: z.string().min(1).max(2_000).optional(),
    /** What verify does when a critical config file no longer matches the pre-patch manifest. */
    onConfigDrift: z.enum(['reapply', 'fail']).default('reapply'),
    /** Reboot behaviour per tier: `NoReboot` for data tiers, restarts orchestrated by us. */
    rebootOption: z.enum(['RebootIfNeeded', 'NoReboot']).default('RebootIfNeeded'),
    noRebootRoles: z.array(z.string()).default(['database', 'queue', 'cache']),
    /** Require an operator approval before anything executes. */
    requireApproval: z.boolean().default(false),
    /** Tiers that wait for their own approval (`approve --tier N`) before any of their nodes start. */
    approveBeforeTiers: z.array(z.union([z.literal(1), z.literal(2), z.literal(3)])).default([]),
    /** How long an approval may be awaited before it is escalated (0 = never). */
    approvalTimeout: duration.default(0),
    /** At the approval timeout: `escalate` (record it, mark the campaign, keep waiting) or `abort`. */
    onApprovalTimeout: z.enum(['escalate', 'abort']).default('escalate'),
    /** Who may approve; empty = anyone. */
    approvers: z.array(z.string()).default([]),
    /**
     * Who may pause, resume, abort, retry and skip (by the name each control carries); empty: anyone
     * who can reach the campaign. Approvals are checked against \`approvers\` (or these, when none).
     */
    operators: z.array(z.string().min(1)).default([]),
    snapshotRetentionDays: z.number().int().min(1).default(14),
    /**
     * The campaign continues as new past this many history events (or when Temporal suggests it),
     * well below the 10,240-event warning. Lower only to exercise continue-as-new in tests.
     */
    historyEventsBeforeContinueAsNew: z.number().int().min(100).max(10_000).default(8_000),
  })
  .strict();

export type PolicyInput = z.input<typeof policySchema>;
export type Policy = z.output<typeof policySchema>;


export class PolicyError extends Error {
  constructor(readonly issues: string[]) {
    super(`invalid policy: ${issues.join('; ')}`);
    this.name = 'PolicyError';
  }
}

/** Validates and fills defaults. Throws `PolicyError` naming every bad field and what was expected. */
export function parsePolicy(input: unknown): Policy {
  const result = policySchema.safeParse(input ?? {});
  if (result.success) return result.data;
  throw new PolicyError(
    result.error.issues.map((issue) => {
      const path = issue.path.length > 0 ? issue.path.join('.') : '(policy)';
      const params = issue.code === 'custom' ? (issue.params as Record<string, unknown> | undefined) : undefined;
      const received = params && 'received' in params ? params.received : issue.path.reduce<unknown>(
        (value, key) => (value && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key as PropertyKey] : undefined),
        input,
      );
      return `${path}: ${issue.message}${received !== undefined ? ` (got ${JSON.stringify(received)})` : ''}`;
    }),
  );
}
