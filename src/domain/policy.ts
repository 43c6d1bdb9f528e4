/**
 * The campaign policy: what an operator may tune, its defaults, and the one check every policy
 * passes — where it is read from a file (the CLI, the ingress), before a campaign starts (the
 * client), and inside the campaign itself (anyone who can reach Temporal can start one with any
 * input). Plain TypeScript, no schema library: the campaign workflow runs this check, and workflow
 * code is bundled and evaluated anew for every execution (docs/performance.md), so it carries no zod.
 */
import { PatchwaveError } from './errors';
import { MAX_UNAVAILABLE_FRACTION } from './cap';
import { parseDurationMs } from './duration';
import type { Remediation } from './fleet';
import { readPackageSource, type PackageSource } from './package-source';

export { clusterCap, MAX_UNAVAILABLE_FRACTION } from './cap';

/** A policy with every default filled in; durations in milliseconds. */
export interface Policy {
  /** Fraction of a cluster that may be out of service at once; lowered, never raised above 25%. */
  maxUnavailableFraction: number;
  /** `sliding`: the next node starts as soon as a slot frees. `waves`: batch barriers. */
  mode: 'sliding' | 'waves';
  /** Fleet-wide limit on nodes in flight at once (0 = no limit beyond the per-cluster caps). */
  maxNodesInFlight: number;
  /** Failed nodes a cluster tolerates before it halts for an operator (1 = halt on the first). */
  haltAfterFailures: number;
  /**
   * What a cluster's halt stops (docs/architecture.md, "Halt scope"): only that cluster (the others
   * of the tier go on), its whole tier, or the campaign. In-flight nodes always finish.
   */
  haltScope: 'cluster' | 'tier' | 'campaign';
  /** Keep one node of each cluster of this size or more unpatched until the rest are done. */
  rescueNodeMinClusterSize: number;
  healthCheckInterval: number;
  /** Consecutive healthy checks that end cool-off; one failure resets the count. */
  healthyChecksRequired: number;
  coolOffMax: number;
  drainTimeout: number;
  /** Snapshots of real volumes take minutes; the activity heartbeats while it waits. */
  snapshotTimeout: number;
  /** Manifest reads and config re-applies run a command on the node (SSM on AWS). */
  commandTimeout: number;
  /** Compensation: restoring volumes (stop, swap, start; root volume replacement) takes minutes. */
  restoreTimeout: number;
  patchTimeout: number;
  /**
   * How often a running patch command is polled. Each poll is an API call (SSM
   * GetCommandInvocation on AWS, throttled per account), and a patch is seen finished half an
   * interval late on average: seconds for real fleets, less for the simulator.
   */
  patchPollInterval: number;
  /**
   * How long a step before the drain (preflight, snapshot) keeps retrying a fleet API that is
   * unreachable, throttling or answering 5xx before the node ends `failed` — untouched, the reason
   * saying the provider was unreachable. From the drain on, a node is never rolled back because the
   * API blipped: it waits for the provider (a rollback would need it too).
   */
  providerRetryWindow: number;
  /** How long the rescue node waits after the rest of its cluster has finished cool-off. */
  clusterSettle: number;
  /** Monitoring window after each tier, compared with the pre-tier baseline. */
  tierMonitoringWindow: number;
  /** A gate regression: error rate above baseline by this much (absolute), or p99 latency by this factor. */
  regressionErrorRateDelta: number;
  regressionLatencyFactor: number;
  /**
   * What the patch installs: `targeted` — the alert's packages at or above their fixed versions,
   * with what the package manager needs, nothing else; `baseline` — every update the node's patch
   * baseline approves (AWS: the baseline as it is; sim: every installed package the repository
   * has newer).
   */
  remediation: Remediation;
  /**
   * Where the patch installs from: the node's repositories (`default`), an internal `mirror`, or an
   * offline `bundle` verified against its checksum manifest before the node is drained
   * (docs/policy.md).
   */
  packageSource: PackageSource;
  /**
   * Services still running the replaced library or binary after the patch: `restart` them (their
   * health is then checked by cool-off) and verify again, or `record` the node as `restart-pending`.
   */
  onStaleServices: 'restart' | 'record';
  /**
   * A per-CVE check run on the node after the patch (e.g. `sshd -V 2>&1 | grep -q 9.8`): exit status
   * 0 means the vulnerability no longer triggers; anything else fails verification (rolled back).
   */
  checkCommand?: string;
  /** What verify does when a critical config file no longer matches the pre-patch manifest. */
  onConfigDrift: 'reapply' | 'fail';
  /** Reboot behaviour per tier: `NoReboot` for data tiers, restarts orchestrated by us. */
  rebootOption: 'RebootIfNeeded' | 'NoReboot';
  noRebootRoles: string[];
  /** Require an operator approval before anything executes. */
  requireApproval: boolean;
  /** Tiers that wait for their own approval (`approve --tier N`) before any of their nodes start. */
  approveBeforeTiers: (1 | 2 | 3)[];
  /** How long an approval may be awaited before it is escalated (0 = never). */
  approvalTimeout: number;
  /** At the approval timeout: `escalate` (record it, mark the campaign, keep waiting) or `abort`. */
  onApprovalTimeout: 'escalate' | 'abort';
  /** Who may approve; empty = anyone. */
  approvers: string[];
  /**
   * Who may pause, resume, abort, retry and skip (by the name each control carries); empty: anyone
   * who can reach the campaign. Approvals are checked against `approvers` (or these, when none).
   */
  operators: string[];
  snapshotRetentionDays: number;
  /**
   * The campaign continues as new past this many history events (or when Temporal suggests it),
   * well below the 10,240-event warning. Lower only to exercise continue-as-new in tests.
   */
  historyEventsBeforeContinueAsNew: number;
}

/** Fields written as durations: a number of milliseconds, or `500ms`, `5s`, `2m`, `1h`, `3d`. */
type DurationField =
  | 'healthCheckInterval'
  | 'coolOffMax'
  | 'drainTimeout'
  | 'snapshotTimeout'
  | 'commandTimeout'
  | 'restoreTimeout'
  | 'patchTimeout'
  | 'patchPollInterval'
  | 'providerRetryWindow'
  | 'clusterSettle'
  | 'tierMonitoringWindow'
  | 'approvalTimeout';

/** A policy as written (a file, a request): any field may be left out for its default. */
export type PolicyInput = { [K in keyof Policy]?: K extends DurationField ? number | string : Policy[K] };

/** One field's rule: its default, and its value from what was written, or what it must be. */
interface Field<T> {
  default: T;
  read(value: unknown): { ok: true; value: T } | { ok: false; expected: string };
  /** Its refusal quotes the offending values itself: no "(got …)" of the whole value (a manifest can be long). */
  quotesValue?: boolean;
}

const accept = <T>(value: T) => ({ ok: true as const, value });
const refuse = (expected: string) => ({ ok: false as const, expected });

function number(fallback: number, min: number, opts: { int?: boolean; max?: number } = {}): Field<number> {
  const kind = opts.int ? 'a whole number' : 'a number';
  const range = opts.max === undefined ? ` ≥ ${min}` : ` from ${min} to ${opts.max}`;
  return {
    default: fallback,
    read: (v) =>
      typeof v === 'number' && Number.isFinite(v) && (!opts.int || Number.isSafeInteger(v)) && v >= min && (opts.max === undefined || v <= opts.max)
        ? accept(v)
        : refuse(`must be ${kind}${range}`),
  };
}

function oneOf<const T extends string>(fallback: T, values: readonly T[]): Field<T> {
  return { default: fallback, read: (v) => (values.includes(v as T) ? accept(v as T) : refuse(`must be one of ${values.join(', ')}`)) };
}

function duration(fallback: number): Field<number> {
  return {
    default: fallback,
    read: (v) => {
      try {
        if (typeof v === 'number' || typeof v === 'string') return accept(parseDurationMs(v));
      } catch {
        // refused below, with what a duration looks like
      }
      return refuse('must be a duration like 500ms, 5s, 2m, 1h or 3d, or a number of milliseconds (≥ 0)');
    },
  };
}

function names(fallback: string[], opts: { nonEmpty?: boolean } = {}): Field<string[]> {
  return {
    default: fallback,
    read: (v) =>
      Array.isArray(v) && v.every((item) => typeof item === 'string' && (!opts.nonEmpty || item.length > 0))
        ? accept([...v] as string[])
        : refuse(`must be a list of ${opts.nonEmpty ? 'non-empty ' : ''}names`),
  };
}

const FIELDS: { [K in keyof Policy]-?: Field<Policy[K]> } = {
  maxUnavailableFraction: {
    default: MAX_UNAVAILABLE_FRACTION,
    read: (v) =>
      typeof v !== 'number' || !Number.isFinite(v) || v <= 0
        ? refuse('must be a fraction greater than 0')
        : v > MAX_UNAVAILABLE_FRACTION
          ? refuse('may be lowered, never raised above 0.25 (the 25% availability cap)')
          : accept(v),
  },
  mode: oneOf('sliding', ['sliding', 'waves']),
  maxNodesInFlight: number(0, 0, { int: true }),
  haltAfterFailures: number(1, 1, { int: true }),
  haltScope: oneOf('cluster', ['cluster', 'tier', 'campaign']),
  rescueNodeMinClusterSize: number(3, 2, { int: true }),
  healthCheckInterval: duration(1_000),
  healthyChecksRequired: number(3, 1, { int: true }),
  coolOffMax: duration(60_000),
  drainTimeout: duration(30_000),
  snapshotTimeout: duration(30 * 60_000),
  commandTimeout: duration(5 * 60_000),
  restoreTimeout: duration(30 * 60_000),
  patchTimeout: duration(15 * 60_000),
  patchPollInterval: duration(2_000),
  providerRetryWindow: duration(5 * 60_000),
  clusterSettle: duration(0),
  tierMonitoringWindow: duration(5_000),
  regressionErrorRateDelta: number(0.02, 0),
  regressionLatencyFactor: number(1.5, 1),
  remediation: oneOf<Remediation>('targeted', ['targeted', 'baseline']),
  packageSource: { default: { kind: 'default' }, read: readPackageSource, quotesValue: true },
  onStaleServices: oneOf('restart', ['restart', 'record']),
  checkCommand: {
    default: undefined,
    read: (v) => (typeof v === 'string' && v.length >= 1 && v.length <= 2_000 ? accept(v) : refuse('must be a shell command of 1 to 2000 characters')),
  },
  onConfigDrift: oneOf('reapply', ['reapply', 'fail']),
  rebootOption: oneOf('RebootIfNeeded', ['RebootIfNeeded', 'NoReboot']),
  noRebootRoles: names(['database', 'queue', 'cache']),
  requireApproval: { default: false, read: (v) => (typeof v === 'boolean' ? accept(v) : refuse('must be true or false')) },
  approveBeforeTiers: {
    default: [],
    read: (v) => (Array.isArray(v) && v.every((t) => t === 1 || t === 2 || t === 3) ? accept([...v] as (1 | 2 | 3)[]) : refuse('must be a list of tiers (1, 2, 3)')),
  },
  approvalTimeout: duration(0),
  onApprovalTimeout: oneOf('escalate', ['escalate', 'abort']),
  approvers: names([]),
  operators: names([], { nonEmpty: true }),
  snapshotRetentionDays: number(14, 1, { int: true }),
  historyEventsBeforeContinueAsNew: number(8_000, 100, { int: true, max: 10_000 }),
};

/** Every field a policy may have, in the order they are documented. */
export const POLICY_FIELDS = Object.keys(FIELDS) as (keyof Policy)[];

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
  if (typeof document !== 'object' || Array.isArray(document)) throw new PolicyError([`(policy): must be a mapping of fields (got ${JSON.stringify(document)})`]);
  const written = document as Record<string, unknown>;
  const issues: string[] = [];
  const policy: Record<string, unknown> = {};
  for (const name of POLICY_FIELDS) {
    const field = FIELDS[name] as Field<unknown>;
    const value = written[name];
    if (value === undefined) {
      // A copy: a default list is never shared between two policies.
      if (field.default !== undefined) policy[name] = typeof field.default === 'object' && field.default !== null ? (JSON.parse(JSON.stringify(field.default)) as unknown) : field.default;
      continue;
    }
    const read = field.read(value);
    if (read.ok) policy[name] = read.value;
    else issues.push(field.quotesValue ? `${name}: ${read.expected}` : `${name}: ${read.expected} (got ${JSON.stringify(value)})`);
  }
  for (const name of Object.keys(written)) {
    if (!(name in FIELDS)) issues.push(`${name}: not a policy field (check the spelling: the fields and their defaults are in src/domain/policy.ts)`);
  }
  if (issues.length > 0) throw new PolicyError(issues);
  return policy as unknown as Policy;
}
