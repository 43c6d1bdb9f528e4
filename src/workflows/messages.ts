/** Every signal, query and update of patchwave's workflows. Same stem on the wire as the constant. */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { NormalizedAlert } from '../domain/alert';
import type { Approval, CampaignStatus, JoinResult, LeaseRefusal, NodeFinished, NodeStatus } from './types';

/** Finish in-flight nodes, start nothing new. */
export const pauseSignal = defineSignal<[{ by?: string; reason?: string }?]>('pause');
/** Leave a pause or a halt: accepted failures stay recorded, the campaign goes on. */
export const resumeSignal = defineSignal<[{ by?: string; reason?: string }?]>('resume');
/** Stop after in-flight work; nothing new starts; the campaign ends `aborted`. */
export const abortSignal = defineSignal<[{ by?: string; reason?: string }?]>('abort');
/** The compliance gate, or a single-node cluster's explicit approval. */
export const approveSignal = defineSignal<[Omit<Approval, 'at'>]>('approve');
/** Run a failed node's procedure again (a new attempt). */
export const retryNodeSignal = defineSignal<[{ node: string; by?: string }]>('retryNode');
/** Give up on a pending or failed node: it is recorded as skipped. */
export const skipNodeSignal = defineSignal<[{ node: string; by?: string; reason?: string }]>('skipNode');
/** Sent by each node workflow to its campaign when it finishes. */
export const nodeFinishedSignal = defineSignal<[NodeFinished]>('nodeFinished');

/** Tiers, clusters, nodes, counts, halts and approvals. */
export const statusQuery = defineQuery<CampaignStatus>('status');
/** A node workflow's current step and timeline. */
export const nodeStatusQuery = defineQuery<NodeStatus>('nodeStatus');

/** Validated operator controls: a refused update never reaches history. */
export const pauseUpdate = defineUpdate<string, [{ by?: string; reason?: string }]>('pauseCampaign');
export const resumeUpdate = defineUpdate<string, [{ by?: string; reason?: string }]>('resumeCampaign');
export const abortUpdate = defineUpdate<string, [{ by?: string; reason?: string }]>('abortCampaign');
export const approveUpdate = defineUpdate<string, [Omit<Approval, 'at'>]>('approveCampaign');
export const retryNodeUpdate = defineUpdate<string, [{ node: string; by?: string }]>('retryNodeCampaign');
export const skipNodeUpdate = defineUpdate<string, [{ node: string; by?: string; reason?: string }]>('skipNodeCampaign');

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
