/**
 * Gathers a campaign's audit report from Temporal: the `status` query (alert, policy, plan tiers and
 * clusters, outcomes, approvals, operator log), the plan facts the campaign recorded in its history
 * (urgency, deadline, assessment), and every node attempt's own workflow result. The status query
 * on a closed campaign needs a patchwave worker polling its task queue.
 */
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { campaignHandle, campaignStatus } from '../client/campaigns';
import { mapBounded } from '../concurrency';
import { nodeWorkflowId } from '../domain/ids';
import type { CampaignPlan } from '../domain/plan';
import { nodeStatusQuery } from '../workflows/messages';
import { planOf, readRecordedPlan } from '../temporal/recorded-plan';
import type { CampaignResult, CampaignStatus, NodeResult } from '../workflows/types';
import { REPORT_SCHEMA, type CampaignReport, type NodeAttempt, type NodeEvidence, type PlanFacts } from './model';

export interface CollectOptions {
  /** Node workflows fetched at once: enough to be quick, few enough not to flood the frontend. */
  concurrency?: number;
  /** The report's clock (tests). */
  now?: () => Date;
}

export async function collectReport(client: Client, campaignId: string, options: CollectOptions = {}): Promise<CampaignReport> {
  const handle = campaignHandle(client, campaignId);
  const description = await handle.describe();
  const status = await campaignStatus(client, campaignId);
  const notes: string[] = [];

  let result: CampaignResult | undefined;
  if (description.status.name === 'COMPLETED') result = await handle.result();

  let plan: PlanFacts | undefined;
  try {
    plan = await readPlanFacts(client, campaignId, description.runId);
    if (!plan) notes.push('plan facts (urgency, deadline, assessment) not found in the campaign history');
  } catch (err) {
    notes.push(`plan facts unavailable: ${(err as Error).message}`);
  }

  const targets = status.tiers.flatMap((tier) =>
    tier.clusters.flatMap((cluster) =>
      cluster.nodes.map((node) => ({
        tier: tier.tier,
        cluster,
        node,
      })),
    ),
  );
  const nodes = await mapBounded(targets, options.concurrency ?? 32, async ({ tier, cluster, node }): Promise<NodeEvidence> => {
    const attempts: NodeAttempt[] = [];
    // Pending nodes have no workflow yet; earlier attempts (before an operator's retry) are evidence too.
    if (node.outcome !== 'pending') {
      for (let attempt = 1; attempt <= node.attempt; attempt++) attempts.push(await readAttempt(client, campaignId, node.id, attempt, node.outcome));
    }
    return {
      nodeId: node.id,
      clusterId: cluster.id,
      tier,
      outcome: node.outcome,
      attempt: node.attempt,
      reason: node.reason,
      role: node.id === cluster.canary ? 'canary' : node.id === cluster.rescue ? 'rescue' : undefined,
      attempts: attempts.filter((a) => a.state !== 'missing' || node.outcome !== 'skipped'),
    };
  });

  for (const node of nodes) for (const a of node.attempts) if (a.state === 'error') notes.push(`${node.nodeId} attempt ${a.attempt}: ${a.error}`);

  return {
    schema: REPORT_SCHEMA,
    generatedAt: (options.now?.() ?? new Date()).toISOString(),
    campaignId,
    executionStatus: description.status.name,
    status,
    result,
    plan,
    nodes,
    notes,
  };
}

async function readAttempt(client: Client, campaignId: string, nodeId: string, attempt: number, outcome: CampaignStatus['tiers'][number]['clusters'][number]['nodes'][number]['outcome']): Promise<NodeAttempt> {
  const workflowId = nodeWorkflowId(campaignId, nodeId, attempt);
  const handle = client.workflow.getHandle(workflowId);
  try {
    const description = await handle.describe();
    if (description.status.name === 'RUNNING') {
      const live = await handle.query(nodeStatusQuery);
      return { attempt, workflowId, state: 'running', timeline: live.timeline };
    }
    if (description.status.name !== 'COMPLETED') {
      return { attempt, workflowId, state: 'error', timeline: [], error: `node workflow ${description.status.name.toLowerCase()} without a result` };
    }
    const result = (await handle.result()) as NodeResult;
    return { attempt, workflowId, state: 'finished', result, timeline: result.timeline };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) {
      return outcome === 'skipped'
        ? { attempt, workflowId, state: 'missing', timeline: [] }
        : { attempt, workflowId, state: 'error', timeline: [], error: 'node workflow not found (never started, or past retention)' };
    }
    return { attempt, workflowId, state: 'error', timeline: [], error: (err as Error).message };
  }
}

/**
 * The plan as the campaign's run recorded it (src/temporal/recorded-plan.ts): a first run's planning
 * result, a whole plan carried by continue-as-new, or a compactly carried core with the prose the run
 * read back. Only the first pages of history are read, never the whole of a long campaign.
 */
async function readPlanFacts(client: Client, workflowId: string, runId: string | undefined): Promise<PlanFacts | undefined> {
  const recorded = await readRecordedPlan(client, workflowId, runId);
  if (!recorded) return undefined;
  return planFacts(planOf(recorded), recorded.kind === 'whole' ? recorded.source : 'carried-state');
}

export function planFacts(plan: CampaignPlan, source: PlanFacts['source']): PlanFacts {
  const clusters: PlanFacts['clusters'] = {};
  for (const tier of plan.tiers) {
    for (const c of tier.clusters) clusters[c.id] = { urgency: c.urgency, deadline: c.deadline, block: c.block, needsApproval: c.needsApproval, noReboot: c.noReboot };
  }
  return {
    summary: plan.summary,
    urgency: plan.urgency,
    deadline: plan.deadline,
    assessment: plan.assessment,
    missingFromInventory: plan.missingFromInventory,
    notAffectedOmitted: plan.notAffectedOmitted,
    clusters,
    source,
  };
}
