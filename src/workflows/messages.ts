/**
 * Every wire name of patchwave's workflows: the workflow types, and each signal, query and update.
 * Same stem on the wire as the constant. A wire name is recorded in histories and used by running
 * executions: renaming one breaks them, so a renamed message keeps its old name registered too.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { NormalizedAlert } from '../domain/alert';
import type { Approval, CampaignStatus, JoinResult, LeaseRefusal, NodeFinished, NodeStatus } from './types';

/**
 * The workflow types, as the functions in patch-campaign.ts, patch-node.ts and cluster-lease.ts are
 * named (the worker registers a workflow by its function's name). Clients and activities use these
 * instead of importing the workflow modules, which may only be evaluated inside the workflow sandbox.
 */
export const PATCH_CAMPAIGN_WORKFLOW = 'patchCampaignWorkflow';
export const PATCH_NODE_WORKFLOW = 'patchNodeWorkflow';
export const CLUSTER_LEASE_WORKFLOW = 'clusterLeaseWorkflow';

/**
 * What a query gets back from a worker that has just taken a campaign over while its next workflow
 * task waits (task-boundary.ts fails that activation on purpose). Asked again it is answered: clients
 * recognise the failure by this text.
 */
export const EVENTS_PAST_TASK_MESSAGE = 'events past the last workflow task (a query reached a worker that had just taken over the campaign): the worker drops it from its cache and replays it whole at the next task';

/** What an operator's pause, resume or abort carries: who asks and why (both optional unless the policy names operators). */
export type OperatorNote = { by?: string; reason?: string };

/** Finish in-flight nodes, start nothing new. */
export const pauseSignal = defineSignal<[OperatorNote?]>('pause');
/** Leave a pause or a halt: accepted failures stay recorded, the campaign goes on. */
export const resumeSignal = defineSignal<[OperatorNote?]>('resume');
/** Stop after in-flight work; nothing new starts; the campaign ends `aborted`. */
export const abortSignal = defineSignal<[OperatorNote?]>('abort');
/** The compliance gate, or a single-node cluster's explicit approval. */
export const approveSignal = defineSignal<[Omit<Approval, 'at'>]>('approve');
/** Run a failed node's procedure again (a new attempt). */
export const retryNodeSignal = defineSignal<[{ node: string; by?: string }]>('retryNode');
/** Give up on a pending or failed node: it is recorded as skipped. */
export const skipNodeSignal = defineSignal<[{ node: string; by?: string; reason?: string }]>('skipNode');
/** Sent by each node workflow to its campaign when it finishes. */
export const nodeFinishedSignal = defineSignal<[NodeFinished]>('nodeFinished');

/**
 * The campaign to a node prepared ahead of its slot: ask again (`slotVerdict`), something changed.
 * Carries nothing and is never obeyed as such: anyone can send it, so the node acts only on the
 * campaign's answer.
 */
export const slotNudgeSignal = defineSignal<[]>('slotNudge');
/** What a node prepared ahead of its slot is to do now (the campaign's own record decides: `slotVerdict`). */
export const slotVerdictQuery = defineQuery<SlotVerdict, [{ nodeId: string; attempt: number }]>('slotVerdict');
export type SlotVerdict = 'proceed' | 'release' | 'wait';

/** Tiers, clusters, nodes, counts, halts and approvals. */
export const statusQuery = defineQuery<CampaignStatus>('status');
/** A node workflow's current step and timeline. */
export const nodeStatusQuery = defineQuery<NodeStatus>('nodeStatus');

/** Pause as a validated update: a refused one never reaches history, the caller gets the reason. */
export const pauseUpdate = defineUpdate<string, [OperatorNote]>('pause');
/** Resume as a validated update. */
export const resumeUpdate = defineUpdate<string, [OperatorNote]>('resume');
/** Abort as a validated update. */
export const abortUpdate = defineUpdate<string, [OperatorNote]>('abort');
/** Approve as a validated update. */
export const approveUpdate = defineUpdate<string, [Omit<Approval, 'at'>]>('approve');
/** Retry a node as a validated update. */
export const retryNodeUpdate = defineUpdate<string, [{ node: string; by?: string }]>('retryNode');
/** Skip a node as a validated update. */
export const skipNodeUpdate = defineUpdate<string, [{ node: string; by?: string; reason?: string }]>('skipNode');

/**
 * The names the operator updates had before they took their signal's stem (`pauseCampaign` …).
 * Still registered, with the same validator and handler: histories recorded before the rename carry
 * them (test/histories), and a CLI older than its workers sends them.
 */
export const legacyControlUpdates = {
  pause: defineUpdate<string, [OperatorNote]>('pauseCampaign'),
  resume: defineUpdate<string, [OperatorNote]>('resumeCampaign'),
  abort: defineUpdate<string, [OperatorNote]>('abortCampaign'),
  approve: defineUpdate<string, [Omit<Approval, 'at'>]>('approveCampaign'),
  retryNode: defineUpdate<string, [{ node: string; by?: string }]>('retryNodeCampaign'),
  skipNode: defineUpdate<string, [{ node: string; by?: string; reason?: string }]>('skipNodeCampaign'),
} as const;

/** An alert for this campaign's CVE arrived again (duplicate or update): new affected nodes join the plan. */
export const joinAlertUpdate = defineUpdate<JoinResult, [NormalizedAlert]>('joinAlert');

/** A campaign asks for a cluster (signal-with-start on `lease:cluster:<id>`). */
export const acquireLeaseSignal = defineSignal<[{ holder: string }]>('acquireLease');
/** A campaign is done with a cluster (or gives up waiting for it). */
export const releaseLeaseSignal = defineSignal<[{ holder: string }]>('releaseLease');
/** The lease workflow tells a campaign the cluster is its to patch. */
export const leaseGrantedSignal = defineSignal<[{ clusterId: string }]>('leaseGranted');
/** Who holds a cluster, who waits for it, and the lease messages it refused. */
export const leaseStatusQuery = defineQuery<{ clusterId: string; holder: string | null; queue: string[]; refused?: LeaseRefusal[] }>('leaseStatus');
/** A campaign's own record of its lease on a cluster (null: never asked for it): what a release is checked against. */
export const leaseStateQuery = defineQuery<'requested' | 'granted' | 'released' | null, [string]>('leaseState');
