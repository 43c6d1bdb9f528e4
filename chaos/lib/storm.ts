/**
 * An operator storm: concurrent validated updates and raw signals, many of them malformed or forged,
 * the way anyone who can reach the Temporal frontend could send them (`temporal workflow signal`).
 * Nothing here may crash a workflow task, free a slot the fleet has not freed, or change an outcome:
 * no skip or abort of a real node is sent. Pauses and resumes are real and interleave.
 */
import { operate } from '../../src/client/campaigns';
import type { ExperimentContext } from './run';

export interface StormRound {
  sent: number;
  forgedFinishes: string[];
  refused: number;
  accepted: number;
}

export async function stormRound(ctx: ExperimentContext, round: number): Promise<StormRound> {
  const { env, campaignId } = ctx;
  const handle = env.client.workflow.getHandle(campaignId);
  // The fleet says which nodes are out of the load balancer right now: the forged completions name them.
  const monitor = await env.admin.monitor().catch(() => undefined);
  const running = (monitor?.drainedNow ?? []).filter((d) => !d.quarantined).map((d) => d.nodeId);
  const clusters = (ctx.lastStatus()?.tiers ?? []).flatMap((t) => t.clusters.map((c) => c.id));
  const by = `storm-${round}`;
  const messages: Array<() => Promise<unknown>> = [
    // validated updates, some refused by their validators
    () => operate(env.client, campaignId, 'pause', { by, reason: 'storm' }),
    () => operate(env.client, campaignId, 'resume', { by, reason: 'storm' }),
    () => operate(env.client, campaignId, 'retry', { by, node: 'no-such-node' }),
    () => operate(env.client, campaignId, 'skip', { by, node: 'no-such-node', reason: 'storm' }),
    () => operate(env.client, campaignId, 'approve', { by: '', reason: '' }),
    // malformed updates
    () => handle.executeUpdate('pauseCampaign', { args: [null] }),
    () => handle.executeUpdate('resumeCampaign', { args: [] }),
    () => handle.executeUpdate('retryNodeCampaign', { args: [{ node: 42 }] }),
    () => handle.executeUpdate('skipNodeCampaign', { args: ['garbage'] }),
    // signals, valid and not
    () => handle.signal('pause', { by }),
    () => handle.signal('resume', { by }),
    () => handle.signal('pause', null),
    () => handle.signal('resume', 42),
    () => handle.signal('retryNode', null),
    () => handle.signal('retryNode', { node: 'no-such-node' }),
    () => handle.signal('skipNode', { node: 12 }),
    () => handle.signal('approve', null),
    () => handle.signal('approve', { by: 'mallory', reason: 'forged approval' }),
    // forged internal signals: a completion for every node the fleet has out of service right now
    ...running.map((nodeId) => () => handle.signal('nodeFinished', { nodeId, attempt: 1, outcome: 'patched' })),
    () => handle.signal('nodeFinished', null),
    () => handle.signal('nodeFinished', {}),
    () => handle.signal('nodeFinished', 'garbage'),
    () => handle.signal('nodeFinished', { nodeId: 'no-such-node', attempt: 1, outcome: 'patched' }),
    ...(running[0] ? [() => handle.signal('nodeFinished', { nodeId: running[0], attempt: 99, outcome: 'quarantined', reason: 'forged' })] : []),
    () => handle.signal('leaseGranted', null),
    () => handle.signal('leaseGranted', { clusterId: 'no-such-cluster' }),
    ...clusters.slice(-3).map((clusterId) => () => handle.signal('leaseGranted', { clusterId })),
    () => handle.signal('noSuchSignal', { hello: 'world' }),
    () => handle.query('status'),
  ];
  const settled = await Promise.allSettled(messages.map((send) => send()));
  return {
    sent: messages.length,
    forgedFinishes: running,
    refused: settled.filter((s) => s.status === 'rejected').length,
    accepted: settled.filter((s) => s.status === 'fulfilled').length,
  };
}

/** After a storm, leave the campaign running: resume it while it reports itself paused. */
export async function settleAfterStorm(ctx: ExperimentContext): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await new Promise((r) => setTimeout(r, 3_000));
    const status = ctx.lastStatus();
    if (!ctx.running() || !status?.paused) return;
    await operate(ctx.env.client, ctx.campaignId, 'resume', { by: 'chaos-operator', reason: 'end of the storm' }).catch(() => undefined);
  }
}
