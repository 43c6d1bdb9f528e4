/**
 * An operator storm: concurrent validated updates and raw signals, many of them malformed or forged,
 * the way anyone who can reach the Temporal frontend could send them (`temporal workflow signal`).
 * Nothing here may crash a workflow task, free a slot the fleet has not freed, or change an outcome:
 * no skip or abort of a real node is sent. Pauses and resumes are real and interleave.
 */
import { operate } from '../../src/client/campaigns';
import type { ExperimentContext } from './run';
import { approveSignal, leaseGrantedSignal, legacyControlUpdates, nodeFinishedSignal, pauseSignal, pauseUpdate, resumeSignal, retryNodeSignal, retryNodeUpdate, skipNodeSignal, skipNodeUpdate, statusQuery } from '../../src/workflows/messages';

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
    () => handle.executeUpdate(pauseUpdate.name, { args: [null] }),
    () => handle.executeUpdate(legacyControlUpdates.resume.name, { args: [] }),
    () => handle.executeUpdate(retryNodeUpdate.name, { args: [{ node: 42 }] }),
    () => handle.executeUpdate(skipNodeUpdate.name, { args: ['garbage'] }),
    // signals, valid and not
    () => handle.signal(pauseSignal, { by }),
    () => handle.signal(resumeSignal, { by }),
    () => handle.signal(pauseSignal, null as never),
    () => handle.signal(resumeSignal, 42 as never),
    () => handle.signal(retryNodeSignal, null as never),
    () => handle.signal(retryNodeSignal, { node: 'no-such-node' }),
    () => handle.signal(skipNodeSignal, { node: 12 } as never),
    () => handle.signal(approveSignal, null as never),
    () => handle.signal(approveSignal, { by: 'mallory', reason: 'forged approval' }),
    // forged internal signals: a completion for every node the fleet has out of service right now
    ...running.map((nodeId) => () => handle.signal(nodeFinishedSignal, { nodeId, attempt: 1, outcome: 'patched' })),
    () => handle.signal(nodeFinishedSignal, null as never),
    () => handle.signal(nodeFinishedSignal, {} as never),
    () => handle.signal(nodeFinishedSignal, 'garbage' as never),
    () => handle.signal(nodeFinishedSignal, { nodeId: 'no-such-node', attempt: 1, outcome: 'patched' }),
    ...(running[0] ? [() => handle.signal(nodeFinishedSignal, { nodeId: running[0], attempt: 99, outcome: 'quarantined', reason: 'forged' })] : []),
    () => handle.signal(leaseGrantedSignal, null as never),
    () => handle.signal(leaseGrantedSignal, { clusterId: 'no-such-cluster' }),
    ...clusters.slice(-3).map((clusterId) => () => handle.signal(leaseGrantedSignal, { clusterId })),
    () => handle.signal('noSuchSignal', { hello: 'world' }),
    () => handle.query(statusQuery),
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
