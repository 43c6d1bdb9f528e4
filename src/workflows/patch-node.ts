/**
 * patchNodeWorkflow: the saga for one node — preflight → snapshot → drain → patch → verify →
 * cool-off → rejoin — with compensation in reverse (config, then data, then rejoin on the old
 * version). If compensation fails the node is quarantined: kept out of service and recorded.
 */
import {
  CancellationScope,
  condition,
  getExternalWorkflowHandle,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { stepKey } from '../domain/ids';
import type { NodeStep } from '../domain/node-state';
import { blocksPatch, describeFindings } from '../domain/findings';
import { describeBundleCheck } from '../domain/package-source';
import { afterFailure, compensationOutcome, drainChangedNothing, liveOutcome, quarantineReason, reapplyDrift, runVulnerabilityCheck, servicesToRestart, unhealthyBeforePatch, verificationWorthRecording, type StepFailureInfo, type UndoStep } from '../domain/node-procedure';
import type { Activities } from '../activities';
import type { NodeManifest, SnapshotRecord } from '../domain/fleet';
import { localCall, nodeStep } from './activity-options';
import { nodeFinishedSignal, nodeStatusQuery, slotNudgeSignal, type SlotVerdict } from './messages';
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
  // Inputs recorded before a field existed lack it, and node workflows started by an older campaign
  // must keep running after an upgrade. The timeouts fall back to the policy's defaults. The patch
  // poll interval falls back to 250 ms, not to the policy's 2 s: 250 ms is what runPatch polled at
  // before the interval became a policy field, so those nodes go on as they started.
  const policy = {
    ...input.policy,
    snapshotTimeout: input.policy.snapshotTimeout ?? 30 * 60_000,
    commandTimeout: input.policy.commandTimeout ?? 5 * 60_000,
    restoreTimeout: input.policy.restoreTimeout ?? 30 * 60_000,
    patchPollInterval: input.policy.patchPollInterval ?? 250,
  };
  const workflowId = workflowInfo().workflowId;
  // Before the drain nothing has changed: a provider unreachable for longer than the policy's window
  // fails the node untouched, saying so. From the drain on, the node is out of service and both going
  // on and rolling back need the provider: a step waits for it rather than mistake an API outage for
  // a failed node (that rolled back nodes whose patch then landed).
  const window = input.policy.providerRetryWindow ?? 5 * 60_000;
  const short = proxyActivities<Activities>(nodeStep(20_000, WAIT_WHILE_DRAINED_MS));
  const commandCall = proxyActivities<Activities>(nodeStep(policy.commandTimeout, WAIT_WHILE_DRAINED_MS));
  const snapshotCall = proxyActivities<Activities>(nodeStep(policy.snapshotTimeout, window));
  // Hashing a bundle reads every file: a heartbeating activity, bounded like a command on the node.
  const bundleCall = proxyActivities<Activities>(nodeStep(policy.commandTimeout, window));
  const drainCall = proxyActivities<Activities>(nodeStep(policy.drainTimeout, WAIT_WHILE_DRAINED_MS));
  const patchCall = proxyActivities<Activities>(nodeStep(policy.patchTimeout, WAIT_WHILE_DRAINED_MS));
  const coolOffCall = proxyActivities<Activities>(nodeStep(policy.coolOffMax, WAIT_WHILE_DRAINED_MS));
  const undo = proxyActivities<Activities>(nodeStep(policy.commandTimeout, WAIT_WHILE_DRAINED_MS));
  const undoRestore = proxyActivities<Activities>(nodeStep(policy.restoreTimeout, WAIT_WHILE_DRAINED_MS));
  // The short reads and the rejoin run as local activities: in the worker that runs this workflow,
  // without an activity task's round trip through the server (each step otherwise costs a task
  // dispatch and a workflow task). Their calls are idempotent by step key, so a worker that dies
  // mid-call simply runs them again. Long, heartbeating steps stay normal activities. Node
  // workflows started before this change replay with normal activities.
  const localSteps = patched('local-short-steps');
  const shortLocal = proxyLocalActivities<Activities>(localCall(nodeStep(20_000, WAIT_WHILE_DRAINED_MS)));
  const commandLocal = proxyLocalActivities<Activities>(localCall(nodeStep(policy.commandTimeout, WAIT_WHILE_DRAINED_MS)));
  const readCall = localSteps ? commandLocal : commandCall;
  const slotCall = proxyLocalActivities<Activities>({ startToCloseTimeout: '10s', scheduleToCloseTimeout: '2m', retry: { initialInterval: '500ms', maximumInterval: '5s' } });
  const rejoinCall = localSteps ? shortLocal : short;

  const timeline: StepRecord[] = [];
  let step: NodeStep = 'preflight';
  let baseline: NodeManifest | undefined;
  setHandler(nodeStatusQuery, () => ({ nodeId, step, timeline, baseline }));
  // Prepared ahead of its slot: the campaign's nudges say "ask again"; they carry nothing to obey.
  let nudged = false;
  if (input.waitForSlot) setHandler(slotNudgeSignal, () => void (nudged = true));

  // A node prepared ahead may be released and started again under the same workflow id (same
  // attempt): its side effects are keyed per run, or the second run's snapshot would be the first
  // run's, answered from the provider's idempotency record.
  const keyScope = input.waitForSlot ? `${workflowId}@${workflowInfo().runId}` : workflowId;
  const call = (name: string, patienceMs = WAIT_WHILE_DRAINED_MS) => ({ nodeId, campaignId, cveId, key: stepKey(keyScope, name), patienceMs });
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
  let restarted: string[] | undefined;
  let drained = false;
  let patchStarted = false;
  try {
    const preflight = await run('preflight', () => readCall.preflightNode(call('preflight', window)), (p) => (p.health.healthy ? 'healthy' : p.health.detail));
    baseline = preflight.manifest;
    result.versionsBefore = pick(preflight.manifest.packages, input.packages.map((p) => p.name));
    if (!preflight.health.healthy) {
      // Never patch a node that is already failing: flag it and leave it untouched.
      Object.assign(result, unhealthyBeforePatch(preflight.health.detail));
      return await finish(result);
    }
    const source = input.policy.packageSource;
    if (source?.kind === 'bundle') {
      // Before the snapshot and the drain: a bundle that fails its manifest leaves the node in service
      // and untouched, and the failure halts its cluster like any failed node. (Campaigns started before
      // package sources have no `packageSource`: their histories never reach this call.)
      await run('bundle-check', async () => {
        const check = await bundleCall.checkBundle({ ...call('bundle-check', window), bundle: source });
        result.bundleCheck = check;
        if (!check.ok) throw new StepFailure('bundle-check', `${describeBundleCheck(check)}; nothing was installed and the node stayed in service — replace the bundle or correct the manifest, then retry the node`);
        return check;
      }, describeBundleCheck);
    }
    snapshot = await run('snapshot', () => snapshotCall.snapshotNode({ ...call('snapshot', window), retentionDays: policy.snapshotRetentionDays }), (s) => s.snapshotIds.join(','));
    result.snapshot = snapshot;
    if (input.waitForSlot) {
      const snapshotAt = Date.now();
      const verdict = await run('await-slot', awaitSlot, (v) => v.detail);
      if (verdict.verdict === 'release') {
        // Still in service and untouched; the snapshot is left to its retention tag.
        result.outcome = 'released';
        result.reason = 'prepared ahead of its slot and released before the slot came (abort, or a halt of its cluster): never drained';
        return await finish(result);
      }
      const maxAge = policy.snapshotMaxAge ?? 15 * 60_000;
      if (Date.now() - snapshotAt > maxAge) {
        // Waited long enough that a rollback would lose what was written since: a fresh snapshot first.
        snapshot = await run('snapshot', () => snapshotCall.snapshotNode({ ...call('snapshot-again', window), retentionDays: policy.snapshotRetentionDays }), (s) => `${s.snapshotIds.join(',')} (the first was older than ${Math.round(maxAge / 1000)}s when the slot came)`);
        result.snapshot = snapshot;
      }
    }
    drained = true; // set before the call: a drain that times out may still have taken the node out
    try {
      await run('drain', () => drainCall.drainNode({ ...call('drain'), timeoutMs: policy.drainTimeout }));
    } catch (err) {
      // Refused because someone else holds the node: we changed nothing, so we must not "undo" anything.
      if (drainChangedNothing(failureType(err))) drained = false;
      throw err;
    }
    patchStarted = true;
    await run('patch', () =>
      patchCall.runPatch({ ...call('patch'), packages: input.packages, remediation: input.policy.remediation ?? 'targeted', ...(source && source.kind !== 'default' && { packageSource: source }), rebootOption: input.rebootOption, timeoutMs: policy.patchTimeout, pollMs: policy.patchPollInterval }),
    (p) => `command ${p.commandId}`);
    const verified = await run('verify', verifyFix, describeVerified);
    const coolOff = await run('cool-off', () =>
      coolOffCall.coolOffNode({ nodeId, intervalMs: policy.healthCheckInterval, required: policy.healthyChecksRequired, maxMs: policy.coolOffMax, patienceMs: WAIT_WHILE_DRAINED_MS }),
    (c) => `${c.samples} checks, ${c.failures} failed`);
    result.healthSamples = coolOff.samples;
    await run('rejoin', () => rejoinCall.rejoinNode(call('rejoin')));
    // Back in service either way; "patched" only when the fix is live.
    const live = liveOutcome(verified.findings);
    result.outcome = live.outcome;
    if (live.reason !== undefined) result.reason = live.reason;
    step = 'done';
    return await finish(result);
  } catch (err) {
    const caught = err instanceof StepFailure ? err : new StepFailure(step, failureMessage(err));
    const failure: StepFailureInfo = { step: caught.step, message: caught.message, providerUnreachable: failureType(err) === PROVIDER_UNREACHABLE };
    const next = afterFailure({ drained, patchStarted, snapshot }, failure);
    result.failedStep = failure.step;
    result.reason = next.reason;
    if (next.kind === 'untouched') {
      // Nothing changed on the node: it is still in service on the old version.
      result.outcome = next.outcome;
      return await finish(result);
    }
    await CancellationScope.nonCancellable(() => compensate(failure, next.steps));
    return await finish(result);
  }

  async function compensate(failure: StepFailureInfo, steps: UndoStep[]): Promise<void> {
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
    // Each undo step, as the workflow runs it; which of them run, and in which order, is afterFailure's.
    const undoCalls: Record<UndoStep, () => Promise<unknown>> = {
      'restore-config': () => undoRestore.restoreConfig({ ...call('restore-config'), snapshot: snapshot! }),
      'restore-data': () => undoRestore.restoreSnapshot({ ...call('restore-data'), snapshot: snapshot! }),
      rejoin: () => undo.rejoinNode(call('undo-rejoin')),
      'confirm-healthy': () =>
        coolOffCall.coolOffNode({ nodeId, intervalMs: policy.healthCheckInterval, required: policy.healthyChecksRequired, maxMs: policy.coolOffMax, patienceMs: WAIT_WHILE_DRAINED_MS }),
    };
    try {
      for (const name of steps) await undoStep(name, undoCalls[name]);
      result.outcome = compensationOutcome(true);
    } catch (undoErr) {
      step = 'quarantine';
      const reason = quarantineReason(failure, failureMessage(undoErr));
      result.outcome = compensationOutcome(false);
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

  /**
   * Waits, in service, until the campaign gives this node its slot or says it will not come. Only
   * the campaign's answer (`slotVerdict`, its own record) is acted on: a nudge just makes the node
   * ask, so a forged one costs one question and changes nothing. Nudges that brought nothing are
   * counted in the step's detail; past a few dozen the node asks only on its own timer.
   */
  async function awaitSlot(): Promise<{ verdict: Exclude<SlotVerdict, 'wait'>; detail: string }> {
    let asked = 0;
    let idle = 0;
    for (;;) {
      if (nudged) {
        nudged = false;
        asked++;
        const verdict = await askForSlot();
        if (verdict !== 'wait') return { verdict, detail: `${verdict} (asked ${asked} time(s); ${idle} nudge(s) or timers brought nothing)` };
        idle++;
      }
      const heard = await condition(() => nudged && idle <= MAX_IDLE_NUDGES, SLOT_RECHECK_MS);
      if (!heard) nudged = true; // a nudge may have been lost, or nudges are ignored now: ask anyway
    }
  }

  async function askForSlot(): Promise<SlotVerdict> {
    try {
      return await slotCall.slotVerdict({ campaignId, nodeId, attempt: input.attempt });
    } catch {
      return 'wait'; // the campaign did not answer (a worker taking it over): ask again later
    }
  }

  /**
   * Verify, at the OS level: drift re-applied and services restarted as the policy says, then the
   * per-CVE check (node-procedure.ts decides each); a fix that is not in place fails the step.
   */
  async function verifyFix(): Promise<Verified> {
    let verified = await readCall.verifyNode({ ...call('verify'), packages: input.packages, baseline: baseline! });
    const first = verified.findings;
    if (verified.findings.drift.length > 0) result.drift = verified.findings.drift;
    if (reapplyDrift(verified.findings, policy)) {
      await commandCall.reapplyConfig({ ...call('reapply-config'), baseline: baseline! });
      verified = await readCall.verifyNode({ ...call('verify-after-reapply'), packages: input.packages, baseline: baseline! });
    }
    // Old code still mapped: restart those services and look again (cool-off then checks their health).
    const stale = servicesToRestart(verified.findings, policy);
    if (stale.length > 0) {
      await commandCall.restartServices({ ...call('restart-services'), services: stale });
      restarted = stale;
      verified = await readCall.verifyNode({ ...call('verify-after-restart'), packages: input.packages, baseline: baseline! });
    }
    const checkCommand = runVulnerabilityCheck(verified.findings, policy);
    if (checkCommand !== undefined) {
      const check = await readCall.checkNode({ ...call('vulnerability-check'), command: checkCommand });
      verified = { ...verified, findings: { ...verified.findings, check } };
    }
    result.versionsAfter = pick(verified.manifest.packages, input.packages.map((p) => p.name));
    if (verificationWorthRecording(first, verified.findings, restarted)) result.verification = { first, final: verified.findings, ...(restarted && { restarted }) };
    if (blocksPatch(verified.findings)) {
      throw new StepFailure('verify', `verification failed: ${describeFindings(verified.findings)}`);
    }
    return verified;
  }

  /** The verify step's line in the timeline: what was done, and what is still open. */
  function describeVerified(v: Verified): string {
    const done = [...(result.drift.length > 0 ? [`drift re-applied: ${result.drift.join(', ')}`] : []), ...(restarted ? [`restarted ${restarted.join(', ')}`] : [])];
    const open = describeFindings({ notFixed: [], drift: [], kernelPending: v.findings.kernelPending, staleServices: v.findings.staleServices });
    return [...done, open || 'fixed versions installed and live, config unchanged'].join('; ');
  }

  async function finish(final: NodeResult): Promise<NodeResult> {
    step = 'done';
    const parent = workflowInfo().parent;
    if (parent && input.reportBySignal !== false && final.outcome !== 'released') {
      // A campaign that takes completions from this signal (see PatchNodeInput.reportBySignal). It
      // may have continued-as-new since it started us: signal by workflow id only.
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

/** A node waiting for its slot asks again on its own this often, in case a nudge never came. */
const SLOT_RECHECK_MS = 60_000;
/** Nudges that brought nothing, after which a waiting node asks only on its own timer (a storm of forged nudges). */
const MAX_IDLE_NUDGES = 50;

/**
 * How long a drained node's steps wait out an unreachable provider before they give up (and the
 * compensation, which waits as long, ends in quarantine). A day: an outage of the fleet API longer
 * than that is an incident of its own, and the node is out of service with a record either way.
 */
const WAIT_WHILE_DRAINED_MS = 24 * 60 * 60_000;

/** The activities' failure type for "the provider stayed unreachable" (src/activities/patience.ts). */
const PROVIDER_UNREACHABLE = 'ProviderUnreachable';

function failureType(err: unknown): string | undefined {
  let current: unknown = err;
  while (current && typeof current === 'object') {
    if ('type' in current && typeof (current as { type?: unknown }).type === 'string') return (current as { type: string }).type;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** What verify reads back from the node. */
type Verified = Awaited<ReturnType<Activities['verifyNode']>>;

function pick(packages: Record<string, string>, names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) if (packages[name] !== undefined) out[name] = packages[name];
  return out;
}

