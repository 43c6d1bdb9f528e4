/**
 * patchNodeWorkflow: the saga for one node — preflight → snapshot → drain → patch → verify →
 * cool-off → rejoin — with compensation in reverse (config, then data, then rejoin on the old
 * version). If compensation fails the node is quarantined: kept out of service and recorded.
 */
import {
  CancellationScope,
  getExternalWorkflowHandle,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { stepKey } from '../domain/ids';
import type { NodeStep } from '../domain/node-state';
import { describeFindings } from '../domain/findings';
import type { Activities } from '../activities';
import type { NodeManifest, SnapshotRecord } from '../providers/port';
import { compensationCall, localCall, longCall, shortCall } from './activity-options';
import { nodeFinishedSignal, nodeStatusQuery } from './messages';
import type { NodeResult, PatchNodeInput, StepRecord } from './types';

class StepFailure extends Error {
  constructor(
    readonly step: NodeStep,
    message: string,
    cause?: unknown,
  ) {
    super(message, { cause });
  }
}

function failureMessage(err: unknown): string {
  let current: unknown = err;
  // Activity failures wrap the ApplicationFailure that carries the useful message.
  while (current && typeof current === 'object' && 'cause' in current && (current as { cause?: unknown }).cause) {
    current = (current as { cause: unknown }).cause;
  }
  return (current as Error)?.message ?? String(err);
}

/** Patches one node; always returns a result (failures are outcomes, not workflow failures). */
export async function patchNodeWorkflow(input: PatchNodeInput): Promise<NodeResult> {
  const { nodeId, campaignId, cveId } = input;
  // Inputs recorded before a timeout existed lack it: fall back to the policy defaults, so node
  // workflows started by an older campaign keep replaying after an upgrade.
  const policy = {
    ...input.policy,
    snapshotTimeout: input.policy.snapshotTimeout ?? 30 * 60_000,
    commandTimeout: input.policy.commandTimeout ?? 5 * 60_000,
    restoreTimeout: input.policy.restoreTimeout ?? 30 * 60_000,
    patchPollInterval: input.policy.patchPollInterval ?? 250,
  };
  const workflowId = workflowInfo().workflowId;
  const short = proxyActivities<Activities>(shortCall);
  const commandCall = proxyActivities<Activities>(longCall(policy.commandTimeout));
  const snapshotCall = proxyActivities<Activities>(longCall(policy.snapshotTimeout));
  const drainCall = proxyActivities<Activities>(longCall(policy.drainTimeout));
  const patchCall = proxyActivities<Activities>(longCall(policy.patchTimeout));
  const coolOffCall = proxyActivities<Activities>(longCall(policy.coolOffMax));
  const undo = proxyActivities<Activities>(compensationCall(policy.commandTimeout));
  const undoRestore = proxyActivities<Activities>(compensationCall(policy.restoreTimeout));
  // The short reads and the rejoin run as local activities: in the worker that runs this workflow,
  // without an activity task's round trip through the server (each step otherwise costs a task
  // dispatch and a workflow task). Their calls are idempotent by step key, so a worker that dies
  // mid-call simply runs them again. Long, heartbeating steps stay normal activities. Node
  // workflows started before this change replay with normal activities.
  const localSteps = patched('local-short-steps');
  const shortLocal = proxyLocalActivities<Activities>(localCall(shortCall));
  const commandLocal = proxyLocalActivities<Activities>(localCall(longCall(policy.commandTimeout)));
  const readCall = localSteps ? commandLocal : commandCall;
  const rejoinCall = localSteps ? shortLocal : short;

  const timeline: StepRecord[] = [];
  let step: NodeStep = 'preflight';
  let baseline: NodeManifest | undefined;
  setHandler(nodeStatusQuery, () => ({ nodeId, step, timeline, baseline }));

  const call = (name: string) => ({ nodeId, campaignId, cveId, key: stepKey(workflowId, name) });
  const now = () => new Date().toISOString();
  async function run<T>(name: NodeStep, body: () => Promise<T>, detail?: (value: T) => string | undefined): Promise<T> {
    step = name;
    const record: StepRecord = { step: name, startedAt: now() };
    timeline.push(record);
    try {
      const value = await body();
      record.ok = true;
      record.detail = detail?.(value);
      return value;
    } catch (err) {
      record.ok = false;
      record.detail = failureMessage(err);
      throw err instanceof StepFailure ? err : new StepFailure(name, record.detail, err);
    } finally {
      record.endedAt = now();
    }
  }

  const result: NodeResult = {
    nodeId,
    clusterId: input.clusterId,
    attempt: input.attempt,
    outcome: 'patched',
    healthSamples: 0,
    drift: [],
    compensation: [],
    timeline,
  };

  let snapshot: SnapshotRecord | undefined;
  let drained = false;
  let patchStarted = false;
  try {
    const preflight = await run('preflight', () => readCall.preflightNode(call('preflight')), (p) => (p.health.healthy ? 'healthy' : p.health.detail));
    baseline = preflight.manifest;
    result.versionsBefore = pick(preflight.manifest.packages, input.packages.map((p) => p.name));
    if (!preflight.health.healthy) {
      // Never patch a node that is already failing: flag it and leave it untouched.
      result.outcome = 'unhealthy';
      result.failedStep = 'preflight';
      result.reason = `unhealthy before patching: ${preflight.health.detail ?? 'failed its health check'}`;
      return await finish(result);
    }
    snapshot = await run('snapshot', () => snapshotCall.snapshotNode({ ...call('snapshot'), retentionDays: policy.snapshotRetentionDays }), (s) => s.snapshotIds.join(','));
    result.snapshot = snapshot;
    drained = true; // set before the call: a drain that times out may still have taken the node out
    try {
      await run('drain', () => drainCall.drainNode({ ...call('drain'), timeoutMs: policy.drainTimeout }));
    } catch (err) {
      // Refused because someone else holds the node: we changed nothing, so we must not "undo" anything.
      if (failureType(err) === 'Provider.conflict') drained = false;
      throw err;
    }
    patchStarted = true;
    await run('patch', () =>
      patchCall.runPatch({ ...call('patch'), packages: input.packages, rebootOption: input.rebootOption, timeoutMs: policy.patchTimeout, pollMs: policy.patchPollInterval }),
    (p) => `command ${p.commandId}`);
    await run('verify', async () => {
      let verified = await readCall.verifyNode({ ...call('verify'), packages: input.packages, baseline: baseline! });
      if (verified.findings.drift.length > 0) {
        result.drift = verified.findings.drift;
        if (policy.onConfigDrift === 'reapply') {
          await commandCall.reapplyConfig({ ...call('reapply-config'), baseline: baseline! });
          verified = await readCall.verifyNode({ ...call('verify-after-reapply'), packages: input.packages, baseline: baseline! });
        }
      }
      result.versionsAfter = pick(verified.manifest.packages, input.packages.map((p) => p.name));
      if (verified.findings.notFixed.length > 0 || verified.findings.drift.length > 0) {
        throw new StepFailure('verify', `verification failed: ${describeFindings(verified.findings)}`);
      }
      return verified;
    }, () => (result.drift.length > 0 ? `drift re-applied: ${result.drift.join(', ')}` : 'fixed versions installed, config unchanged'));
    const coolOff = await run('cool-off', () =>
      coolOffCall.coolOffNode({ nodeId, intervalMs: policy.healthCheckInterval, required: policy.healthyChecksRequired, maxMs: policy.coolOffMax }),
    (c) => `${c.samples} checks, ${c.failures} failed`);
    result.healthSamples = coolOff.samples;
    await run('rejoin', () => rejoinCall.rejoinNode(call('rejoin')));
    step = 'done';
    return await finish(result);
  } catch (err) {
    const failure = err instanceof StepFailure ? err : new StepFailure(step, failureMessage(err));
    result.failedStep = failure.step;
    result.reason = `${failure.step}: ${failure.message}`;
    if (!drained) {
      // Nothing changed on the node: it is still in service on the old version.
      result.outcome = 'failed';
      return await finish(result);
    }
    await CancellationScope.nonCancellable(() => compensate(failure));
    return await finish(result);
  }

  async function compensate(failure: StepFailure): Promise<void> {
    step = 'rollback';
    const undoStep = async (name: string, body: () => Promise<unknown>) => {
      const record: StepRecord = { step: 'rollback', startedAt: now(), detail: name };
      timeline.push(record);
      try {
        await body();
        record.ok = true;
        result.compensation.push({ step: name, ok: true });
      } catch (err) {
        record.ok = false;
        record.detail = `${name}: ${failureMessage(err)}`;
        result.compensation.push({ step: name, ok: false, detail: failureMessage(err) });
        throw err;
      } finally {
        record.endedAt = now();
      }
    };
    try {
      if (patchStarted && snapshot) {
        // Configuration before data: the other order makes the application reject the old schema.
        await undoStep('restore-config', () => undoRestore.restoreConfig({ ...call('restore-config'), snapshot: snapshot! }));
        await undoStep('restore-data', () => undoRestore.restoreSnapshot({ ...call('restore-data'), snapshot: snapshot! }));
      }
      await undoStep('rejoin', () => undo.rejoinNode(call('undo-rejoin')));
      await undoStep('confirm-healthy', () =>
        coolOffCall.coolOffNode({ nodeId, intervalMs: policy.healthCheckInterval, required: policy.healthyChecksRequired, maxMs: policy.coolOffMax }),
      );
      result.outcome = 'rolled-back';
    } catch (undoErr) {
      step = 'quarantine';
      const reason = `${failure.step} failed (${failure.message}); rollback failed (${failureMessage(undoErr)}): kept out of service for an operator`;
      result.outcome = 'quarantined';
      result.reason = reason;
      try {
        await undo.quarantineNode({ ...call('quarantine'), reason });
        result.compensation.push({ step: 'quarantine', ok: true });
      } catch (qErr) {
        // The node is out of service either way; the campaign records it as quarantined.
        result.compensation.push({ step: 'quarantine', ok: false, detail: failureMessage(qErr) });
      }
    }
  }

  async function finish(final: NodeResult): Promise<NodeResult> {
    step = 'done';
    const parent = workflowInfo().parent;
    if (parent) {
      // The campaign may have continued-as-new since it started us: signal by workflow id only.
      try {
        await getExternalWorkflowHandle(parent.workflowId).signal(nodeFinishedSignal, {
          nodeId,
          attempt: input.attempt,
          outcome: final.outcome,
          reason: final.reason,
        });
      } catch {
        // The campaign is gone (terminated by hand): this node's own result still records the outcome.
      }
    }
    return final;
  }
}

function failureType(err: unknown): string | undefined {
  let current: unknown = err;
  while (current && typeof current === 'object') {
    if ('type' in current && typeof (current as { type?: unknown }).type === 'string') return (current as { type: string }).type;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function pick(packages: Record<string, string>, names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) if (packages[name] !== undefined) out[name] = packages[name];
  return out;
}

