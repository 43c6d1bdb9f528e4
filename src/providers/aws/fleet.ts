/**
 * Reads what the provider needs to know about instances: the EC2 instance itself, its Auto Scaling
 * group (authoritatively, via DescribeAutoScalingInstances) and the target groups it is served from
 * (the group's target groups plus the `patchwave:target-groups` tag for instances registered by hand).
 * Stateless: every activity asks again, so a worker restart never acts on stale membership.
 */
import {
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  type AutoScalingGroup,
  type AutoScalingInstanceDetails,
} from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, type Filter, type Instance } from '@aws-sdk/client-ec2';
import { DescribeLoadBalancersCommand, DescribeTargetGroupsCommand, type TargetGroup } from '@aws-sdk/client-elastic-load-balancing-v2';
import { ProviderError } from '../port';
import type { AwsClients } from './clients';
import { awsSend } from './errors';
import { csv, READ_TAGS, tagMap } from './tags';

export interface NodeFacts {
  instanceId: string;
  instance: Instance;
  tags: Map<string, string>;
  /** Set when the instance belongs to an Auto Scaling group. */
  asg?: { name: string; lifecycleState: string; group: AutoScalingGroup };
  /** Every target group the instance is served from (ARNs). */
  targetGroupArns: string[];
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** All instances matching the filters, across pages. */
export async function describeInstances(clients: AwsClients, filters: Filter[], what: string, signal?: AbortSignal): Promise<Instance[]> {
  const instances: Instance[] = [];
  let NextToken: string | undefined;
  do {
    const page = await awsSend(clients.ec2, 'ec2', new DescribeInstancesCommand({ Filters: filters, MaxResults: 500, NextToken }), what, signal);
    for (const reservation of page.Reservations ?? []) instances.push(...(reservation.Instances ?? []));
    NextToken = page.NextToken;
  } while (NextToken);
  return instances;
}

export async function describeInstance(clients: AwsClients, instanceId: string, signal?: AbortSignal): Promise<Instance> {
  const page = await awsSend(clients.ec2, 'ec2', new DescribeInstancesCommand({ InstanceIds: [instanceId] }), `instance ${instanceId}`, signal);
  const instance = page.Reservations?.[0]?.Instances?.[0];
  if (!instance) throw new ProviderError('not-found', `instance ${instanceId} not found: it may have been terminated; refresh the inventory or skip the node`);
  return instance;
}

async function autoScalingInstances(clients: AwsClients, instanceIds: string[], signal?: AbortSignal): Promise<Map<string, AutoScalingInstanceDetails>> {
  const byId = new Map<string, AutoScalingInstanceDetails>();
  // The API takes at most 50 ids per call.
  for (const ids of chunks(instanceIds, 50)) {
    let NextToken: string | undefined;
    do {
      const page = await awsSend(
        clients.autoScaling,
        'autoscaling',
        new DescribeAutoScalingInstancesCommand({ InstanceIds: ids, MaxRecords: 50, NextToken }),
        `Auto Scaling membership of ${ids.length === 1 ? ids[0] : `${ids.length} instances`}`,
        signal,
      );
      for (const details of page.AutoScalingInstances ?? []) if (details.InstanceId) byId.set(details.InstanceId, details);
      NextToken = page.NextToken;
    } while (NextToken);
  }
  return byId;
}

export async function describeGroups(clients: AwsClients, names: string[], signal?: AbortSignal): Promise<Map<string, AutoScalingGroup>> {
  const byName = new Map<string, AutoScalingGroup>();
  for (const batch of chunks(names, 50)) {
    let NextToken: string | undefined;
    do {
      const page = await awsSend(
        clients.autoScaling,
        'autoscaling',
        new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: batch, MaxRecords: 100, NextToken }),
        `Auto Scaling group${batch.length === 1 ? ` ${batch[0]}` : 's'}`,
        signal,
      );
      for (const group of page.AutoScalingGroups ?? []) if (group.AutoScalingGroupName) byName.set(group.AutoScalingGroupName, group);
      NextToken = page.NextToken;
    } while (NextToken);
  }
  return byName;
}

/** Target groups by ARN or name, with their load balancers (for the name and the exposure). */
export async function describeTargetGroups(clients: AwsClients, arnsOrNames: string[], signal?: AbortSignal): Promise<TargetGroup[]> {
  const arns = [...new Set(arnsOrNames.filter((v) => v.startsWith('arn:')))];
  const names = [...new Set(arnsOrNames.filter((v) => !v.startsWith('arn:')))];
  const groups: TargetGroup[] = [];
  for (const batch of chunks(arns, 20)) {
    const page = await awsSend(clients.elbv2, 'elasticloadbalancing', new DescribeTargetGroupsCommand({ TargetGroupArns: batch }), `target groups ${batch.join(', ')}`, signal);
    groups.push(...(page.TargetGroups ?? []));
  }
  for (const batch of chunks(names, 20)) {
    const page = await awsSend(clients.elbv2, 'elasticloadbalancing', new DescribeTargetGroupsCommand({ Names: batch }), `target groups named ${batch.join(', ')}`, signal);
    groups.push(...(page.TargetGroups ?? []));
  }
  return groups;
}

export interface LoadBalancerFacts {
  name: string;
  /** `internet-facing` | `internal`. */
  scheme: string;
  /** `application` | `network` | `gateway`. */
  type: string;
}

/** Load balancers by ARN: name, scheme and type, for the exposure and its reason. */
export async function describeLoadBalancers(clients: AwsClients, arns: string[], signal?: AbortSignal): Promise<Map<string, LoadBalancerFacts>> {
  const found = new Map<string, LoadBalancerFacts>();
  for (const batch of chunks([...new Set(arns)], 20)) {
    const page = await awsSend(clients.elbv2, 'elasticloadbalancing', new DescribeLoadBalancersCommand({ LoadBalancerArns: batch }), `load balancers ${batch.join(', ')}`, signal);
    for (const lb of page.LoadBalancers ?? []) {
      if (lb.LoadBalancerArn) found.set(lb.LoadBalancerArn, { name: lb.LoadBalancerName ?? lb.LoadBalancerArn, scheme: lb.Scheme ?? 'internal', type: lb.Type ?? 'application' });
    }
  }
  return found;
}

/**
 * Facts for many instances with few calls: one DescribeAutoScalingInstances per 50 instances, one
 * DescribeAutoScalingGroups per 50 groups, one DescribeTargetGroups per 20 tagged target groups.
 */
export async function describeFacts(clients: AwsClients, instances: Instance[], signal?: AbortSignal): Promise<{ facts: NodeFacts[]; targetGroups: Map<string, TargetGroup> }> {
  const ids = instances.map((i) => i.InstanceId!).filter(Boolean);
  const memberships = ids.length > 0 ? await autoScalingInstances(clients, ids, signal) : new Map<string, AutoScalingInstanceDetails>();
  const groupNames = [...new Set([...memberships.values()].map((m) => m.AutoScalingGroupName!).filter(Boolean))];
  const groups = groupNames.length > 0 ? await describeGroups(clients, groupNames, signal) : new Map<string, AutoScalingGroup>();

  const tagged = new Set<string>();
  for (const instance of instances) for (const tg of csv(tagMap(instance.Tags).get(READ_TAGS.targetGroups))) tagged.add(tg);
  const asgArns = [...groups.values()].flatMap((g) => g.TargetGroupARNs ?? []);
  const known = await describeTargetGroups(clients, [...new Set([...asgArns, ...tagged])], signal);
  const targetGroups = new Map(known.map((tg) => [tg.TargetGroupArn!, tg]));
  const arnOf = (ref: string): string => {
    if (ref.startsWith('arn:')) return ref;
    const found = known.find((tg) => tg.TargetGroupName === ref);
    if (!found) throw new ProviderError('bad-input', `target group ${JSON.stringify(ref)} named in ${READ_TAGS.targetGroups} does not exist; fix the tag`);
    return found.TargetGroupArn!;
  };

  const facts = instances.map((instance): NodeFacts => {
    const instanceId = instance.InstanceId!;
    const tags = tagMap(instance.Tags);
    const membership = memberships.get(instanceId);
    const group = membership?.AutoScalingGroupName ? groups.get(membership.AutoScalingGroupName) : undefined;
    const asg = membership && group ? { name: membership.AutoScalingGroupName!, lifecycleState: membership.LifecycleState ?? 'Unknown', group } : undefined;
    const targetGroupArns = [...new Set([...(group?.TargetGroupARNs ?? []), ...csv(tags.get(READ_TAGS.targetGroups)).map(arnOf)])];
    return { instanceId, instance, tags, asg, targetGroupArns };
  });
  return { facts, targetGroups };
}

/** Facts for one instance; `not-found` when it is gone. */
export async function describeNode(clients: AwsClients, instanceId: string, signal?: AbortSignal): Promise<NodeFacts & { targetGroups: Map<string, TargetGroup> }> {
  const instance = await describeInstance(clients, instanceId, signal);
  const { facts, targetGroups } = await describeFacts(clients, [instance], signal);
  return { ...facts[0], targetGroups };
}

/** A readable name for a target group in messages and tags. */
export function targetGroupLabel(arn: string, targetGroups?: Map<string, TargetGroup>): string {
  return targetGroups?.get(arn)?.TargetGroupName ?? arn.split(':').pop() ?? arn;
}
