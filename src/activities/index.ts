/**
 * Activities: thin adapters from workflow steps to the fleet port. Each does one side effect, is
 * idempotent through the key it is given, and classifies its failures.
 */
import { activityInfo, ApplicationFailure, cancellationSignal, Context, heartbeat, sleep } from '@temporalio/activity';
import { clusterLeaseWorkflowId } from '../domain/ids';
import type { AffectedPackage, NormalizedAlert } from '../domain/alert';
import type { HealthSample, MetricsSample, NodeManifest, Remediation, SnapshotRecord } from '../domain/fleet';
import type { CampaignPlan, Planner } from '../domain/plan';
import { planCampaign } from '../domain/planner';
import { checkBundle, type BundleCheck, type BundleSource, type PackageSource } from '../domain/package-source';
import { parsePolicy, PolicyError, type Policy } from '../domain/policy';
import { verifyManifest, type VerifyFindings } from '../domain/verify';
import type { FleetProvider } from '../providers/port';
import { mapBounded } from '../concurrency';
import { guarded } from './errors';
import { createTemporalLookups } from './temporal-lookups';
import { acquireLeaseSignal, CLUSTER_LEASE_WORKFLOW } from '../workflows/messages';
import { patiently, type Patience } from './patience';

export interface NodeCall {
  nodeId: string;
  campaignId: string;
  cveId: string;
  /** Idempotency key of this step (see src/domain/ids.ts). */
  key: string;
  /** How long this step waits out an unreachable or throttling provider (see patience.ts); default 5 minutes. */
  patienceMs?: number;
}

const DEFAULT_PATIENCE_MS = 5 * 60_000;

export interface ActivityDeps {
  provider: FleetProvider;
  planner?: Planner;
}

/** Clusters whose metrics are read at once by the tier gate. */
const METRICS_CONCURRENCY = 8;

/** Keeps a long provider call visibly alive: a dead worker is noticed in the heartbeat timeout. */
async function withHeartbeat<T>(call: () => Promise<T>): Promise<T> {
  // A local activity has no heartbeat (the worker keeps its workflow task alive instead).
  if (activityInfo().isLocal) return call();
  const beat = setInterval(() => heartbeat(), 2_000);
  try {
    return await call();
  } finally {
    clearInterval(beat);
  }
}

export function createActivities({ provider, planner = planCampaign }: ActivityDeps) {
  const patience = (call: { patienceMs?: number }, beat?: () => void): Patience => ({ windowMs: call.patienceMs ?? DEFAULT_PATIENCE_MS, ...(beat && { beat }) });
  const ctx = (call: NodeCall) => ({ idempotencyKey: call.key, campaignId: call.campaignId, cveId: call.cveId, signal: cancellationSignal() });

  return {
    ...createTemporalLookups(),

    /**
     * A campaign's start input checked against the policy schema, outside the workflow bundle (which
     * carries no zod): the policy with its defaults, or a final `InvalidPolicy` failure whose details
     * are the issues, each naming the field, what it must be and what it was.
     */
    async checkPolicy(raw: unknown): Promise<Policy> {
      try {
        return parsePolicy(raw);
      } catch (err) {
        if (err instanceof PolicyError) throw ApplicationFailure.create({ type: 'InvalidPolicy', nonRetryable: true, message: err.message, details: err.issues });
        throw err;
      }
    },

    /** Reads the inventory in scope and runs the planner: the campaign's one look at the whole fleet. */
    async buildPlan(alert: NormalizedAlert, scope: string, policy: Policy): Promise<CampaignPlan> {
      const inventory = await guarded(`inventory of scope ${scope}`, () => provider.listInventory(scope));
      try {
        return planner(alert, inventory, policy);
      } catch (err) {
        throw ApplicationFailure.create({ message: `planning failed: ${(err as Error).message}`, type: 'PlanningFailed', nonRetryable: true });
      }
    },

    /**
     * Asks for a cluster: signal-with-start on the cluster's lease workflow, on this worker's task
     * queue. The grant arrives later as the `leaseGranted` signal.
     */
    async requestClusterLease(request: { clusterId: string; holder: string }): Promise<void> {
      await Context.current().client.workflow.signalWithStart(CLUSTER_LEASE_WORKFLOW, {
        workflowId: clusterLeaseWorkflowId(activityInfo().taskQueue, request.clusterId),
        taskQueue: activityInfo().taskQueue,
        args: [{ clusterId: request.clusterId }],
        signal: acquireLeaseSignal,
        signalArgs: [{ holder: request.holder }],
      });
    },

    /** One metrics sample per cluster, for the tier gate. */
    async sampleClusterMetrics(clusterIds: string[]): Promise<MetricsSample[]> {
      // A few clusters at a time: a tier of dozens of clusters is sampled in about one read's time,
      // without a burst that the metrics API would throttle.
      return mapBounded(clusterIds, METRICS_CONCURRENCY, async (clusterId) => {
        const m = await guarded(`metrics of cluster ${clusterId}`, () => provider.clusterMetrics(clusterId, cancellationSignal()));
        return { clusterId, errorRate: m.errorRate, latencyP50Ms: m.latencyP50Ms, latencyP99Ms: m.latencyP99Ms, connections: m.connections, measured: m.measured };
      });
    },

    /** Is the node healthy now, and what is installed: the last-known-good manifest. */
    async preflightNode(call: NodeCall): Promise<{ health: HealthSample; manifest: NodeManifest }> {
      const health = await patiently(`health of ${call.nodeId}`, () => provider.checkHealth(call.nodeId, cancellationSignal()), patience(call));
      const manifest = await withHeartbeat(() => patiently(`manifest of ${call.nodeId}`, () => provider.readManifest(call.nodeId, ctx(call)), patience(call)));
      return { health, manifest };
    },

    /** The bundle as this node would install it, against the policy's manifest: before the drain, so a mismatch changes nothing. */
    async checkBundle(call: NodeCall & { bundle: BundleSource }): Promise<BundleCheck> {
      const sums = await withHeartbeat(() => patiently(`bundle ${call.bundle.name} on ${call.nodeId}`, () => provider.readBundleChecksums(call.nodeId, call.bundle, ctx(call)), patience(call)));
      return checkBundle(call.bundle, sums);
    },

    /** Data volumes and configuration, tagged with CVE, campaign and retention; heartbeats while it waits. */
    async snapshotNode(call: NodeCall & { retentionDays: number }): Promise<SnapshotRecord> {
      return withHeartbeat(() => patiently(`snapshot of ${call.nodeId}`, () => provider.snapshotNode(call.nodeId, { ...ctx(call), retentionDays: call.retentionDays }), patience(call)));
    },

    /** Out of the load balancer; heartbeats while connections drain. */
    async drainNode(call: NodeCall & { timeoutMs: number }): Promise<void> {
      await withHeartbeat(() => patiently(`drain of ${call.nodeId}`, () => provider.drainNode(call.nodeId, { ...ctx(call), timeoutMs: call.timeoutMs }), patience(call)));
    },

    /**
     * Starts the patch command (the key makes a retry find the same command) and polls it with
     * heartbeats. Enforces the patch deadline itself, so an unreachable package repository is a clear
     * timeout, never a hang. It returns or fails only once the command has ended: past the deadline
     * it cancels the command and waits until the provider reports it stopped, so a rollback never
     * starts under a running patch. A provider that is unreachable meanwhile is waited for.
     */
    async runPatch(call: NodeCall & { packages: AffectedPackage[]; remediation?: Remediation; packageSource?: PackageSource; rebootOption: 'RebootIfNeeded' | 'NoReboot'; timeoutMs: number; pollMs?: number }): Promise<{ commandId: string; detail?: string }> {
      const resumed = activityInfo().heartbeatDetails as { commandId?: string; startedAt: number } | undefined;
      const startedAt = resumed?.startedAt ?? Date.now();
      let commandId = resumed?.commandId;
      const waitFor = patience(call, () => heartbeat({ commandId, startedAt }));
      commandId ??= (await patiently(`patch of ${call.nodeId}`, () => provider.startPatch(call.nodeId, { ...ctx(call), packages: call.packages, remediation: call.remediation ?? 'targeted', rebootOption: call.rebootOption, ...(call.packageSource && { packageSource: call.packageSource }) }), waitFor)).commandId;
      const id = commandId;
      const pollMs = call.pollMs ?? 250;
      const status = () => patiently(`patch status of ${call.nodeId}`, () => provider.getPatchStatus(call.nodeId, id, cancellationSignal()), waitFor);
      for (;;) {
        heartbeat({ commandId, startedAt });
        const state = await status();
        if (state.state === 'Success') return { commandId, detail: state.detail };
        if (state.state === 'Failed') {
          const detail = state.detail.includes(commandId) ? state.detail : `patch command ${commandId} failed on ${call.nodeId}: ${state.detail}`;
          throw ApplicationFailure.create({ message: detail, type: 'PatchFailed', nonRetryable: true });
        }
        if (Date.now() - startedAt > call.timeoutMs) {
          // Cancel, then wait for a final state: "cancel requested" is not "stopped".
          for (;;) {
            await patiently(`cancel of patch ${id} on ${call.nodeId}`, () => provider.cancelPatch(call.nodeId, id), waitFor);
            const final = await status();
            // It finished as the deadline passed: the patch is in place; verify decides.
            if (final.state === 'Success') return { commandId, detail: final.detail };
            if (final.state === 'Failed') break;
            heartbeat({ commandId, startedAt });
            await sleep(pollMs);
          }
          throw ApplicationFailure.create({
            message: `patch command ${commandId} on ${call.nodeId} did not finish within ${Math.round(call.timeoutMs / 1000)}s: the package repository may be unreachable from the node; the command was cancelled and has stopped`,
            type: 'PatchTimeout',
            nonRetryable: true,
          });
        }
        await sleep(pollMs);
      }
    },

    /** Reads the manifest after the patch and compares it with the pre-patch baseline. */
    async verifyNode(call: NodeCall & { packages: AffectedPackage[]; baseline: NodeManifest }): Promise<{ manifest: NodeManifest; findings: VerifyFindings }> {
      const manifest = await withHeartbeat(() => patiently(`manifest of ${call.nodeId}`, () => provider.readManifest(call.nodeId, ctx(call)), patience(call)));
      // A fixed version reported only for some nodes (per-distribution builds) applies only to them.
      const applicable = call.packages.filter((pkg) => !pkg.resourceIds || pkg.resourceIds.includes(call.nodeId));
      return { manifest, findings: verifyManifest(call.baseline, manifest, applicable) };
    },

    /** The policy's per-CVE check on the node. */
    async checkNode(call: NodeCall & { command: string }): Promise<{ command: string; exitCode: number; output: string }> {
      const answer = await withHeartbeat(() => patiently(`vulnerability check on ${call.nodeId}`, () => provider.runCheck(call.nodeId, call.command, ctx(call)), patience(call)));
      return { command: call.command, exitCode: answer.exitCode, output: answer.output };
    },

    /** Services still running replaced code after the patch: restarts them (cool-off then checks health). */
    async restartServices(call: NodeCall & { services: string[] }): Promise<void> {
      await withHeartbeat(() => patiently(`restart of ${call.services.join(', ')} on ${call.nodeId}`, () => provider.restartServices(call.nodeId, call.services, ctx(call)), patience(call)));
    },

    /** Config drift after a patch: puts the pre-patch critical config files back. */
    async reapplyConfig(call: NodeCall & { baseline: NodeManifest }): Promise<void> {
      await withHeartbeat(() => patiently(`config re-apply on ${call.nodeId}`, () => provider.reapplyConfig(call.nodeId, call.baseline, ctx(call)), patience(call)));
    },

    /**
     * Cool-off: a health check every interval until `required` consecutive healthy results; one failure
     * resets the count; past `maxMs` it fails. One heartbeating activity rather than a workflow loop
     * keeps a 10,000-node campaign's histories short; the count survives a worker crash via heartbeats.
     * A check the provider could not answer is no sample at all, and the time it was unreachable does
     * not count against `maxMs`: an API outage says nothing about the node's health.
     */
    async coolOffNode(call: { nodeId: string; intervalMs: number; required: number; maxMs: number; patienceMs?: number }): Promise<{ samples: number; failures: number }> {
      const resumed = activityInfo().heartbeatDetails as { consecutive: number; samples: number; failures: number; startedAt: number; unreachableMs?: number } | undefined;
      const state = { unreachableMs: 0, ...(resumed ?? { consecutive: 0, samples: 0, failures: 0, startedAt: Date.now() }) };
      const waitFor: Patience = {
        windowMs: call.patienceMs ?? DEFAULT_PATIENCE_MS,
        beat: () => heartbeat(state),
        onRecovered: (ms) => (state.unreachableMs += ms),
      };
      for (;;) {
        const sample = await patiently(`health of ${call.nodeId}`, () => provider.checkHealth(call.nodeId, cancellationSignal()), waitFor);
        state.samples++;
        if (sample.healthy) state.consecutive++;
        else {
          state.consecutive = 0;
          state.failures++;
        }
        heartbeat(state);
        if (state.consecutive >= call.required) return { samples: state.samples, failures: state.failures };
        if (Date.now() - state.startedAt - state.unreachableMs + call.intervalMs > call.maxMs) {
          throw ApplicationFailure.create({
            message: `${call.nodeId} did not reach ${call.required} consecutive healthy checks within ${Math.round(call.maxMs / 1000)}s (${state.failures} of ${state.samples} checks failed${sample.detail ? `; last: ${sample.detail}` : ''})`,
            type: 'CoolOffFailed',
            nonRetryable: true,
          });
        }
        await sleep(call.intervalMs);
      }
    },

    /** Back into the load balancer. */
    async rejoinNode(call: NodeCall): Promise<void> {
      // Heartbeats: on AWS a rejoin waits minutes for the target to turn healthy.
      await withHeartbeat(() => patiently(`rejoin of ${call.nodeId}`, () => provider.rejoinNode(call.nodeId, ctx(call)), patience(call)));
    },

    /** Compensation 1: configuration first — restoring data under a newer config makes the app reject the old schema. */
    async restoreConfig(call: NodeCall & { snapshot: SnapshotRecord }): Promise<void> {
      await withHeartbeat(() => patiently(`config restore on ${call.nodeId}`, () => provider.restoreConfig(call.nodeId, call.snapshot, ctx(call)), patience(call)));
    },

    /** Compensation 2: data volumes from the snapshot. */
    async restoreSnapshot(call: NodeCall & { snapshot: SnapshotRecord }): Promise<void> {
      await withHeartbeat(() => patiently(`data restore on ${call.nodeId}`, () => provider.restoreData(call.nodeId, call.snapshot, ctx(call)), patience(call)));
    },

    /** Compensation failed: keep the node out of service and record why where operators look. */
    async quarantineNode(call: NodeCall & { reason: string }): Promise<void> {
      await withHeartbeat(() => patiently(`quarantine of ${call.nodeId}`, () => provider.quarantineNode(call.nodeId, call.reason, ctx(call)), patience(call)));
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
