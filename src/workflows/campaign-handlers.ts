/**
 * Every message a campaign accepts, wired to the pure rules in src/domain/campaign. Each message is
 * checked for shape first (anyone who can reach the Temporal frontend can send any payload), then
 * for the campaign's rules. A refused update never reaches history; a refused signal is recorded.
 * No handler throws inside a workflow task, and none issues commands: decisions are the main loop's,
 * made at workflow-task boundaries (task-boundary.ts).
 */
import { ApplicationFailure, condition, currentUpdateInfo, setHandler } from '@temporalio/workflow';
import type { AffectedPackage, NormalizedAlert } from '../domain/alert';
import { applyControl, refusalOf, type Control } from '../domain/campaign/operator';
import { allClusters, clusterOfNode, isClosing } from '../domain/campaign/queries';
import { slotVerdict } from '../domain/campaign/scheduler';
import { buildStatus } from '../domain/campaign/status';
import { checkApproval, checkLeaseGranted, checkNodeControl, checkNodeFinished, checkOperatorNote, type Checked } from '../domain/messages';
import { mergePlans } from '../domain/plan-merge';
import type { CampaignRun } from './campaign-run';
import {
  abortSignal,
  abortUpdate,
  approveSignal,
  approveUpdate,
  joinAlertUpdate,
  leaseGrantedSignal,
  leaseStateQuery,
  legacyControlUpdates,
  slotVerdictQuery,
  nodeFinishedSignal,
  pauseSignal,
  pauseUpdate,
  resumeSignal,
  resumeUpdate,
  retryNodeSignal,
  retryNodeUpdate,
  skipNodeSignal,
  skipNodeUpdate,
  statusQuery,
} from './messages';
import type { CampaignInput } from './types';

/** The shape check of each control, as it arrives (signal or update). */
const controlShapes: Record<Control['kind'], (raw: unknown) => Checked<Omit<Control, 'kind'>>> = {
  pause: (raw) => checkOperatorNote(raw, 'pause'),
  resume: (raw) => checkOperatorNote(raw, 'resume'),
  abort: (raw) => checkOperatorNote(raw, 'abort'),
  approve: (raw) => checkApproval(raw),
  retry: (raw) => checkNodeControl(raw, retryNodeSignal.name),
  skip: (raw) => checkNodeControl(raw, skipNodeSignal.name),
};

/** Each control's signal and updates (today's name, and the one recorded before the rename). */
const controlMessages = [
  ['pause', pauseSignal, [pauseUpdate, legacyControlUpdates.pause]],
  ['resume', resumeSignal, [resumeUpdate, legacyControlUpdates.resume]],
  ['abort', abortSignal, [abortUpdate, legacyControlUpdates.abort]],
  ['approve', approveSignal, [approveUpdate, legacyControlUpdates.approve]],
  ['retry', retryNodeSignal, [retryNodeUpdate, legacyControlUpdates.retryNode]],
  ['skip', skipNodeSignal, [skipNodeUpdate, legacyControlUpdates.skipNode]],
] as const;

/** Registers every handler; call before the workflow's first `await`. */
export function registerCampaignHandlers(run: CampaignRun, input: CampaignInput): void {
  const { state, campaignId } = run;
  /** The control a message asks for, or why it cannot apply (shape first, then the campaign's rules). */
  const controlOf = (kind: Control['kind'], raw: unknown): Checked<Control> => {
    const shape = controlShapes[kind](raw);
    if (!shape.ok) return shape;
    const control = { kind, ...shape.value } as Control;
    const refusal = refusalOf(state, control);
    return refusal ? { ok: false, reason: refusal } : { ok: true, value: control };
  };
  const apply = (control: Control) => {
    const reply = applyControl(state, control, new Date().toISOString());
    run.changed();
    return reply;
  };
  /**
   * While a first run checks its policy (the `checkPolicy` activity), a control waits for the
   * answer instead of being refused: who may operate comes from the checked policy, and a signal
   * refused for the timing alone would be an operator's order lost. Otherwise it applies at once.
   */
  const whenPolicyKnown = <T>(handle: () => T): T | Promise<T> =>
    run.policyPending ? condition(() => !run.policyPending).then(handle) : handle();
  for (const [kind, signal, updates] of controlMessages) {
    setHandler(signal, (raw: unknown) =>
      whenPolicyKnown(() => {
        const control = controlOf(kind, raw);
        if (control.ok) apply(control.value);
        else run.refuse(kind, control.reason);
      }),
    );
    for (const update of updates) {
      setHandler(
        update,
        (raw: unknown) =>
          whenPolicyKnown(() => {
            // The validator accepted it against this same state (or, while the policy was being
            // checked, its shape only): the campaign's rules are applied here again.
            const control = controlOf(kind, raw);
            if (!control.ok) throw ApplicationFailure.nonRetryable(control.reason, 'ControlRefused');
            return apply(control.value);
          }),
        {
          validator: (raw: unknown) => {
            const control = run.policyPending ? controlShapes[kind](raw) : controlOf(kind, raw);
            if (!control.ok) throw new Error(control.reason);
          },
        },
      );
    }
  }

  setHandler(nodeFinishedSignal, (raw: unknown) => {
    const checked = checkNodeFinished(raw);
    if (!checked.ok) return run.refuse(nodeFinishedSignal.name, checked.reason);
    const claim = checked.value;
    if (!clusterOfNode(state.plan, claim.nodeId)) return run.refuse(nodeFinishedSignal.name, `unknown node: ${claim.nodeId} is not in this campaign's plan`);
    const attempt = state.attempts[claim.nodeId] ?? 1;
    const outcome = state.outcomes[claim.nodeId] ?? 'pending';
    if (!run.versions.verifiedMessages) {
      // Campaigns started before the check: the signal itself is the completion (well-formed only).
      if (attempt === claim.attempt && outcome === 'running') run.recordOutcome(claim);
      return;
    }
    if (claim.attempt !== attempt) return run.refuse(nodeFinishedSignal.name, `stale: ${claim.nodeId} attempt ${claim.attempt} reported, the current attempt is ${attempt}`);
    // The node's own report arriving after its result was recorded says nothing new; a running node's
    // report is only a claim: its completion comes from its workflow's result.
    if (outcome !== 'running' && outcome !== claim.outcome) run.refuse(nodeFinishedSignal.name, `${claim.nodeId} is ${outcome}, not running: nothing to finish`);
  });

  setHandler(leaseGrantedSignal, (raw: unknown) => {
    const checked = checkLeaseGranted(raw);
    if (!checked.ok) return run.refuse(leaseGrantedSignal.name, checked.reason);
    const { clusterId } = checked.value;
    if (!run.versions.verifiedMessages) {
      if (state.leases[clusterId] === 'requested') state.leases[clusterId] = 'granted';
      return run.changed();
    }
    if (!allClusters(state.plan).some((c) => c.id === clusterId)) return run.refuse(leaseGrantedSignal.name, `unknown cluster: ${clusterId} is not in this campaign's plan`);
    if (state.leases[clusterId] !== 'requested') return run.refuse(leaseGrantedSignal.name, `the lease of ${clusterId} is ${state.leases[clusterId] ?? 'not requested'}: nothing to grant`);
    run.leasesToConfirm.set(clusterId, true);
    run.changed();
  });

  setHandler(statusQuery, () => buildStatus(campaignId, state));
  // What a lease workflow checks a release against (a query: it never touches history).
  setHandler(leaseStateQuery, (clusterId: unknown) => (typeof clusterId === 'string' ? (state.leases[clusterId] ?? null) : null));
  // What a node prepared ahead of its slot acts on (a query: anyone may ask, nobody can change anything by it).
  setHandler(slotVerdictQuery, (request: unknown) => {
    const asked = request as { nodeId?: unknown; attempt?: unknown } | null;
    if (typeof asked !== 'object' || asked === null || typeof asked.nodeId !== 'string' || typeof asked.attempt !== 'number') return 'release';
    return slotVerdict(state, asked.nodeId, asked.attempt);
  });

  setHandler(
    joinAlertUpdate,
    async (alert: NormalizedAlert) => {
      if (input.startUpdateId !== undefined && currentUpdateInfo()?.id === input.startUpdateId) {
        // Update-with-start delivered the alert that started this campaign: nothing to join.
        return { campaignId, joined: false, addedNodes: [], phase: state.phase };
      }
      state.alert = { ...state.alert, packages: mergePackages(state.alert.packages, alert.packages), resourceIds: union(state.alert.resourceIds, alert.resourceIds) };
      let addedNodes: string[] = [];
      if (state.plan.tiers.length > 0) {
        // Re-plan against today's inventory; only nodes never planned are added: nothing is done twice.
        const fresh = await run.planning.buildPlan(state.alert, input.fleet.scope, state.policy);
        await run.boundary.settle();
        const floor = state.tierStage === 'patching' ? state.tierIndex : state.tierIndex + 1;
        const merged = mergePlans(state.plan, fresh, floor, state.policy.maxUnavailableFraction);
        state.plan = merged.plan;
        addedNodes = merged.added;
      }
      state.alertsJoined.push({ at: new Date().toISOString(), source: alert.source, addedNodes });
      run.log('alert joined', undefined, `${alert.source} alert for ${alert.cveId}: ${addedNodes.length} new node(s)`);
      return { campaignId, joined: true, addedNodes, phase: state.phase };
    },
    {
      validator: (alert: NormalizedAlert) => {
        if (typeof alert?.cveId !== 'string') throw new Error(`${joinAlertUpdate.name} takes a normalized alert with a cveId`);
        if (alert.cveId.toUpperCase() !== state.plan.cveId.toUpperCase()) throw new Error(`alert is for ${alert.cveId}, this campaign is for ${state.plan.cveId}`);
        if (isClosing(state)) throw new Error(`campaign is ${state.phase}: start a new one for a new scope`);
      },
    },
  );
}

function mergePackages(a: AffectedPackage[], b: AffectedPackage[]): AffectedPackage[] {
  const merged = [...a];
  for (const pkg of b) if (!merged.some((p) => p.name === pkg.name && p.fixedVersion === pkg.fixedVersion)) merged.push(pkg);
  return merged;
}

function union(a: string[] | undefined, b: string[] | undefined): string[] | undefined {
  if (!a && !b) return undefined;
  return [...new Set([...(a ?? []), ...(b ?? [])])];
}
