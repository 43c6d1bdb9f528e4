/**
 * Taking a node out of service and back: Auto Scaling standby and target-group registration.
 *
 * Order matters. Drain enters standby first and deregisters second: EnterStandby changes the group's
 * desired capacity, and moto (unlike AWS) re-registers every group instance in its target groups on
 * any capacity change — deregistering last leaves the node out either way. Standby is entered with
 * ShouldDecrementDesiredCapacity, so the group does not launch a replacement for the node we are
 * patching (ExitStandby adds the one back).
 *
 * Before anything is taken out, the instance is tagged with who drained it, when, and where it was
 * registered (target group and port): no node is ever out of service without a record saying why,
 * and rejoin puts it back exactly where it was.
 */
import { DescribeAutoScalingInstancesCommand, EnterStandbyCommand, ExitStandbyCommand } from '@aws-sdk/client-auto-scaling';
import { CreateTagsCommand, DeleteTagsCommand, DescribeInstanceStatusCommand } from '@aws-sdk/client-ec2';
import {
  DeregisterTargetsCommand,
  DescribeTargetHealthCommand,
  RegisterTargetsCommand,
  type TargetDescription,
  type TargetGroup,
  type TargetHealthDescription,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { ProviderError, type HealthSample, type OperationContext } from '../port';
import type { AwsClients } from './clients';
import { awsSend, hasCode } from './errors';
import { describeNode, targetGroupLabel, type NodeFacts } from './fleet';
import { READ_TAGS, tagValue, WRITE_TAGS } from './tags';
import { pollUntil, type PollOptions } from './wait';

type Node = NodeFacts & { targetGroups: Map<string, TargetGroup> };

/** Where an instance is registered: target group ARN and port. */
export interface Registration {
  targetGroupArn: string;
  port?: number;
}

/** `targetgroup/web/0123abcd@80;…` — ARN suffixes keep the tag under 256 characters for a few groups. */
export function encodeRegistrations(regs: Registration[]): string {
  return regs.map((r) => `${r.targetGroupArn.split(':').pop()}${r.port !== undefined ? `@${r.port}` : ''}`).join(';');
}

export function decodeRegistrations(value: string | undefined, arnPrefix: string): Registration[] {
  // Without a known target group there is no ARN prefix to rebuild the record's ARNs from.
  if (!value || !arnPrefix) return [];
  return value
    .split(';')
    .filter(Boolean)
    .map((part) => {
      const [suffix, port] = part.split('@');
      return { targetGroupArn: `${arnPrefix}${suffix}`, port: port ? Number(port) : undefined };
    });
}

/** `arn:aws:elasticloadbalancing:<region>:<account>:` — the part the drain record leaves out. */
function arnPrefixOf(node: Node): string {
  const arn = node.targetGroupArns[0];
  return arn ? arn.slice(0, arn.indexOf('targetgroup/')) : '';
}

async function targetHealth(clients: AwsClients, arn: string, targets: TargetDescription[] | undefined, label: string, signal?: AbortSignal): Promise<TargetHealthDescription[]> {
  const out = await awsSend(clients.elbv2, 'elasticloadbalancing', new DescribeTargetHealthCommand({ TargetGroupArn: arn, Targets: targets }), `target group ${label}`, signal);
  return out.TargetHealthDescriptions ?? [];
}

/** The instance's current registrations (an instance may be registered on several ports). */
async function currentRegistrations(clients: AwsClients, node: Node, signal?: AbortSignal): Promise<Registration[]> {
  const regs: Registration[] = [];
  for (const arn of node.targetGroupArns) {
    for (const d of await targetHealth(clients, arn, undefined, targetGroupLabel(arn, node.targetGroups), signal)) {
      if (d.Target?.Id === node.instanceId && d.TargetHealth?.State !== 'draining') regs.push({ targetGroupArn: arn, port: d.Target.Port });
    }
  }
  return regs;
}

async function lifecycleState(clients: AwsClients, instanceId: string, signal?: AbortSignal): Promise<string> {
  const out = await awsSend(clients.autoScaling, 'autoscaling', new DescribeAutoScalingInstancesCommand({ InstanceIds: [instanceId] }), `Auto Scaling membership of ${instanceId}`, signal);
  return out.AutoScalingInstances?.[0]?.LifecycleState ?? 'Detached';
}

async function waitLifecycle(clients: AwsClients, node: Node, wanted: string, poll: Omit<PollOptions, 'timeoutMessage'>): Promise<void> {
  await pollUntil(
    async () => {
      const state = await lifecycleState(clients, node.instanceId, poll.signal);
      return state === wanted ? { done: true, value: undefined } : { done: false, state };
    },
    { ...poll, timeoutMessage: (s) => `${node.instanceId} is ${s} in Auto Scaling group ${node.asg!.name}, not ${wanted}, after ${Math.round(poll.timeoutMs / 1000)}s; see the group's activity history` },
  );
}

async function tagInstance(clients: AwsClients, instanceId: string, tags: Record<string, string>, signal?: AbortSignal): Promise<void> {
  await awsSend(
    clients.ec2,
    'ec2',
    new CreateTagsCommand({ Resources: [instanceId], Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value: tagValue(Value) })) }),
    `instance ${instanceId}`,
    signal,
  );
}

/** Standby for a group member in service; a no-op when it already is (or is entering) standby. */
async function enterStandby(clients: AwsClients, node: Node, signal?: AbortSignal): Promise<boolean> {
  if (!node.asg) return false;
  const state = node.asg.lifecycleState;
  if (state === 'Standby' || state === 'EnteringStandby') return true;
  if (state !== 'InService') {
    throw new ProviderError('conflict', `${node.instanceId} is ${state} in Auto Scaling group ${node.asg.name} and cannot enter standby; wait for the group's activity to finish or skip the node`);
  }
  try {
    await awsSend(
      clients.autoScaling,
      'autoscaling',
      new EnterStandbyCommand({ AutoScalingGroupName: node.asg.name, InstanceIds: [node.instanceId], ShouldDecrementDesiredCapacity: true }),
      `${node.instanceId} in group ${node.asg.name}`,
      signal,
    );
  } catch (err) {
    if (hasCode(err, 'ValidationError') && /min-?size|minimum/i.test((err as Error).message)) {
      throw new ProviderError(
        'conflict',
        `${node.instanceId} cannot enter standby: group ${node.asg.name} is at its minimum size (${node.asg.group.MinSize}) and standby lowers the desired capacity; lower MinSize by one for the campaign`,
        { cause: err },
      );
    }
    throw err;
  }
  return true;
}

async function deregister(clients: AwsClients, node: Node, regs: Registration[], signal?: AbortSignal): Promise<void> {
  for (const arn of new Set(regs.map((r) => r.targetGroupArn))) {
    const targets = regs.filter((r) => r.targetGroupArn === arn).map((r) => ({ Id: node.instanceId, Port: r.port }));
    try {
      await awsSend(clients.elbv2, 'elasticloadbalancing', new DeregisterTargetsCommand({ TargetGroupArn: arn, Targets: targets }), `target group ${targetGroupLabel(arn, node.targetGroups)}`, signal);
    } catch (err) {
      // Standby may already have deregistered it: the goal (not registered) holds.
      if (!hasCode(err, 'InvalidTarget')) throw err;
    }
  }
}

export async function drainNode(clients: AwsClients, nodeId: string, ctx: OperationContext & { timeoutMs: number }, intervalMs: number, now: () => Date): Promise<void> {
  const deadline = Date.now() + ctx.timeoutMs;
  const remaining = () => Math.max(0, deadline - Date.now());
  const node = await describeNode(clients, nodeId, ctx.signal);
  const holder = node.tags.get(WRITE_TAGS.drainedBy);
  if (holder && holder !== ctx.campaignId) {
    // Another campaign drained it and has not rejoined it: never take over a node someone else holds.
    throw new ProviderError('conflict', `${nodeId} is already drained by ${holder} (tag ${WRITE_TAGS.drainedBy}); another operation holds it — try again once it has rejoined`);
  }
  const arnPrefix = arnPrefixOf(node);
  // A retry after the node was deregistered finds nothing registered: keep what the first attempt recorded.
  const recorded = decodeRegistrations(node.tags.get(WRITE_TAGS.drainedTargets), arnPrefix);
  const found = await currentRegistrations(clients, node, ctx.signal);
  const regs = [...recorded, ...found.filter((f) => !recorded.some((r) => r.targetGroupArn === f.targetGroupArn && r.port === f.port))];
  await tagInstance(
    clients,
    nodeId,
    {
      [WRITE_TAGS.drainedBy]: ctx.campaignId,
      [WRITE_TAGS.drainedAt]: node.tags.get(WRITE_TAGS.drainedAt) ?? now().toISOString(),
      [WRITE_TAGS.drainedTargets]: encodeRegistrations(regs),
    },
    ctx.signal,
  );

  if (await enterStandby(clients, node, ctx.signal)) {
    await waitLifecycle(clients, node, 'Standby', { timeoutMs: remaining(), intervalMs, signal: ctx.signal });
  }
  // Ask again: entering standby may have changed registrations (AWS deregisters, moto re-registers).
  const stillRegistered = await currentRegistrations(clients, node, ctx.signal);
  await deregister(clients, node, stillRegistered, ctx.signal);

  // Connection draining: a deregistered target stays `draining` for the group's deregistration delay.
  await pollUntil(
    async () => {
      const draining: string[] = [];
      for (const reg of regs) {
        const label = targetGroupLabel(reg.targetGroupArn, node.targetGroups);
        const [d] = await targetHealth(clients, reg.targetGroupArn, [{ Id: nodeId, Port: reg.port }], label, ctx.signal);
        const state = d?.TargetHealth?.State;
        if (state && state !== 'unused') draining.push(`${label}: ${state}`);
      }
      return draining.length === 0 ? { done: true, value: undefined } : { done: false, state: draining.join(', ') };
    },
    {
      timeoutMs: remaining(),
      intervalMs,
      signal: ctx.signal,
      timeoutMessage: (state) =>
        `${nodeId} still draining after ${Math.round(ctx.timeoutMs / 1000)}s (${state}); the target group's deregistration_delay.timeout_seconds bounds draining — lower it or raise the policy's drainTimeout`,
    },
  );
}

export async function rejoinNode(clients: AwsClients, nodeId: string, ctx: OperationContext, timing: { intervalMs: number; timeoutMs: number }): Promise<void> {
  const deadline = Date.now() + timing.timeoutMs;
  const remaining = () => Math.max(0, deadline - Date.now());
  const node = await describeNode(clients, nodeId, ctx.signal);
  if (node.asg) {
    let state = node.asg.lifecycleState;
    if (state === 'EnteringStandby') {
      await waitLifecycle(clients, node, 'Standby', { timeoutMs: remaining(), intervalMs: timing.intervalMs, signal: ctx.signal });
      state = 'Standby';
    }
    if (state === 'Standby') {
      await awsSend(clients.autoScaling, 'autoscaling', new ExitStandbyCommand({ AutoScalingGroupName: node.asg.name, InstanceIds: [nodeId] }), `${nodeId} in group ${node.asg.name}`, ctx.signal);
    } else if (state !== 'InService' && state !== 'Pending' && state !== 'Pending:Proceed') {
      throw new ProviderError('conflict', `${nodeId} is ${state} in Auto Scaling group ${node.asg.name} and cannot rejoin; look at the group's activity history`);
    }
    await waitLifecycle(clients, node, 'InService', { timeoutMs: remaining(), intervalMs: timing.intervalMs, signal: ctx.signal });
  }

  const arnPrefix = arnPrefixOf(node);
  const recorded = decodeRegistrations(node.tags.get(WRITE_TAGS.drainedTargets), arnPrefix);
  // Without a record (drained by hand), every target group the node belongs to on its default port.
  const regs: Registration[] = recorded.length > 0 ? recorded : node.targetGroupArns.map((targetGroupArn) => ({ targetGroupArn }));
  for (const arn of new Set(regs.map((r) => r.targetGroupArn))) {
    const targets = regs.filter((r) => r.targetGroupArn === arn).map((r) => ({ Id: nodeId, Port: r.port }));
    // Registering a registered target is a no-op, which makes this safe to repeat.
    await awsSend(clients.elbv2, 'elasticloadbalancing', new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: targets }), `target group ${targetGroupLabel(arn, node.targetGroups)}`, ctx.signal);
  }

  await pollUntil(
    async () => {
      const waiting: string[] = [];
      for (const reg of regs) {
        const label = targetGroupLabel(reg.targetGroupArn, node.targetGroups);
        const [d] = await targetHealth(clients, reg.targetGroupArn, [{ Id: nodeId, Port: reg.port }], label, ctx.signal);
        if (d?.TargetHealth?.State !== 'healthy') waiting.push(`${label}: ${d?.TargetHealth?.State ?? 'unknown'}${d?.TargetHealth?.Reason ? ` (${d.TargetHealth.Reason})` : ''}`);
      }
      return waiting.length === 0 ? { done: true, value: undefined } : { done: false, state: waiting.join(', ') };
    },
    {
      timeoutMs: remaining(),
      intervalMs: timing.intervalMs,
      signal: ctx.signal,
      timeoutMessage: (state) => `${nodeId} registered but not healthy after ${Math.round(timing.timeoutMs / 1000)}s (${state}); check the target group's health check against the node`,
    },
  );

  const recordTags = [WRITE_TAGS.drainedBy, WRITE_TAGS.drainedAt, WRITE_TAGS.drainedTargets].filter((k) => node.tags.has(k));
  if (recordTags.length > 0) {
    await awsSend(clients.ec2, 'ec2', new DeleteTagsCommand({ Resources: [nodeId], Tags: recordTags.map((Key) => ({ Key })) }), `instance ${nodeId}`, ctx.signal);
  }
}

export async function quarantineNode(clients: AwsClients, nodeId: string, reason: string, ctx: OperationContext, now: () => Date): Promise<void> {
  const node = await describeNode(clients, nodeId, ctx.signal);
  // The record first: if anything below fails, the operator still sees why the node is special.
  await tagInstance(
    clients,
    nodeId,
    {
      [WRITE_TAGS.quarantine]: reason,
      [WRITE_TAGS.quarantinedAt]: node.tags.get(WRITE_TAGS.quarantinedAt) ?? now().toISOString(),
      [WRITE_TAGS.campaign]: ctx.campaignId,
    },
    ctx.signal,
  );
  // Standby, not detach or terminate: the instance and its disks stay for the investigation, and the
  // group neither health-checks nor replaces it.
  await enterStandby(clients, node, ctx.signal);
  await deregister(clients, node, await currentRegistrations(clients, node, ctx.signal), ctx.signal);
}

function healthUrl(node: Node): string | undefined {
  const template = node.tags.get(READ_TAGS.healthUrl);
  if (!template) return undefined;
  return template
    .replaceAll('{privateIp}', node.instance.PrivateIpAddress ?? '')
    .replaceAll('{publicIp}', node.instance.PublicIpAddress ?? '')
    .replaceAll('{instanceId}', node.instanceId);
}

/**
 * Healthy = EC2 status checks ok, every target group that has the node registered says `healthy`, and
 * the optional health URL answers 2xx. A node out of its target groups (drained, in cool-off) is
 * judged on status checks and the URL alone: `unused` there is the expected state, not a failure.
 */
export async function checkHealth(clients: AwsClients, nodeId: string, options: { urlTimeoutMs: number; now: () => Date; signal?: AbortSignal }): Promise<HealthSample> {
  const { signal } = options;
  const problems: string[] = [];
  const notes: string[] = [];
  const node = await describeNode(clients, nodeId, signal);

  const status = await awsSend(clients.ec2, 'ec2', new DescribeInstanceStatusCommand({ InstanceIds: [nodeId], IncludeAllInstances: true }), `status checks of ${nodeId}`, signal);
  const s = status.InstanceStatuses?.[0];
  const state = s?.InstanceState?.Name ?? node.instance.State?.Name ?? 'unknown';
  if (state !== 'running') problems.push(`instance ${state}`);
  else {
    const instanceCheck = s?.InstanceStatus?.Status ?? 'unknown';
    const systemCheck = s?.SystemStatus?.Status ?? 'unknown';
    if (instanceCheck !== 'ok' || systemCheck !== 'ok') problems.push(`status checks instance=${instanceCheck} system=${systemCheck}`);
    else notes.push('status checks ok');
  }

  for (const arn of node.targetGroupArns) {
    const label = targetGroupLabel(arn, node.targetGroups);
    const mine = (await targetHealth(clients, arn, undefined, label, signal)).filter((d) => d.Target?.Id === nodeId);
    for (const d of mine) {
      const th = d.TargetHealth?.State;
      if (th === 'healthy') notes.push(`${label}: healthy`);
      else if (th !== 'unused' && th !== 'draining') problems.push(`${label}: ${th}${d.TargetHealth?.Reason ? ` (${d.TargetHealth.Reason})` : ''}`);
    }
  }

  const url = healthUrl(node);
  if (url) {
    const timeout = AbortSignal.timeout(options.urlTimeoutMs);
    try {
      const res = await fetch(url, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
      await res.body?.cancel();
      if (res.ok) notes.push(`${url}: ${res.status}`);
      else problems.push(`${url}: HTTP ${res.status}`);
    } catch (err) {
      if (signal?.aborted) throw err;
      problems.push(`${url}: ${timeout.aborted ? `no answer within ${options.urlTimeoutMs} ms` : (err as Error).message}`);
    }
  }
  return {
    healthy: problems.length === 0,
    at: options.now().toISOString(),
    detail: problems.length > 0 ? problems.join('; ') : notes.join('; '),
  };
}
