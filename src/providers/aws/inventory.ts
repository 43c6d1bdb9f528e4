/**
 * Inventory from EC2: instances that opted in with `patchwave:managed=true`, narrowed by the scope,
 * enriched with Auto Scaling and target-group membership and the tags in tags.ts. Installed packages
 * come from SSM Inventory (the agent's own report, the production default) or from
 * `patchwave:pkg:<name>` tags (for fleets without SSM Inventory, and for moto).
 */
import type { Filter, Instance } from '@aws-sdk/client-ec2';
import { ListInventoryEntriesCommand } from '@aws-sdk/client-ssm';
import type { InventoryAsset } from '../../domain/inventory';
import { compareVersions } from '../../domain/versions';
import { ProviderError } from '../port';
import type { AwsClients } from './clients';
import { awsSend } from './errors';
import { describeFacts, describeInstances, describeLoadBalancers, type NodeFacts } from './fleet';
import { csv, packagesFromTags, READ_TAGS, readExposure, readSensitivity, readTier } from './tags';

export type PackageSource = 'ssm-inventory' | 'tags';

/**
 * Scope grammar: `all`; `key=value[,key=value…]` (every tag must match, e.g. `env=prod`); or a bare
 * name, meaning a cluster: the `patchwave:cluster` tag or the Auto Scaling group of that name.
 */
export function scopeFilters(scope: string): Filter[][] {
  const base: Filter[] = [
    { Name: `tag:${READ_TAGS.managed}`, Values: ['true'] },
    // SSM can only patch running instances; stopped ones are patched when they start (by the baseline).
    { Name: 'instance-state-name', Values: ['running'] },
  ];
  const trimmed = scope.trim();
  if (trimmed === '' || trimmed === 'all') return [base];
  if (trimmed.includes('=')) {
    const pairs = trimmed.split(',').map((pair) => {
      const at = pair.indexOf('=');
      const key = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      if (at <= 0 || !key || !value) throw new ProviderError('bad-input', `scope ${JSON.stringify(scope)}: expected key=value[,key=value…] with tag keys and values, got ${JSON.stringify(pair)}`);
      return { Name: `tag:${key}`, Values: [value] };
    });
    return [[...base, ...pairs]];
  }
  // Two queries, unioned: EC2 filters AND across keys and cannot express "this tag or that tag".
  return [
    [...base, { Name: `tag:${READ_TAGS.cluster}`, Values: [trimmed] }],
    [...base, { Name: 'tag:aws:autoscaling:groupName', Values: [trimmed] }],
  ];
}

export async function listScopedInstances(clients: AwsClients, scope: string, signal?: AbortSignal): Promise<Instance[]> {
  const byId = new Map<string, Instance>();
  for (const filters of scopeFilters(scope)) {
    for (const instance of await describeInstances(clients, filters, `instances in scope ${scope}`, signal)) byId.set(instance.InstanceId!, instance);
  }
  return [...byId.values()].sort((a, b) => a.InstanceId!.localeCompare(b.InstanceId!));
}

/** `Name`, `Version`, `Release`, `Epoch` of AWS:Application entries → the version the package manager prints. */
function inventoryVersion(entry: Record<string, string>): string {
  const epoch = entry.Epoch && entry.Epoch !== '0' && entry.Epoch !== '(none)' ? `${entry.Epoch}:` : '';
  const release = entry.Release ? `-${entry.Release}` : '';
  // dpkg reports the full version (epoch included) in Version; rpm splits it into Epoch/Version/Release.
  return entry.Version?.includes(':') ? `${entry.Version}${release}` : `${epoch}${entry.Version ?? ''}${release}`;
}

/** The newest version of each package in SSM Inventory (kernels and multilib packages appear more than once). */
export async function packagesFromSsmInventory(clients: AwsClients, instanceId: string, signal?: AbortSignal): Promise<Record<string, string>> {
  const packages: Record<string, string> = {};
  let NextToken: string | undefined;
  let entries = 0;
  do {
    const page = await awsSend(
      clients.ssm,
      'ssm',
      new ListInventoryEntriesCommand({ InstanceId: instanceId, TypeName: 'AWS:Application', MaxResults: 50, NextToken }),
      `SSM inventory of ${instanceId}`,
      signal,
    );
    for (const entry of page.Entries ?? []) {
      if (!entry.Name || !entry.Version) continue;
      entries++;
      const version = inventoryVersion(entry);
      const current = packages[entry.Name];
      if (current === undefined || compareVersions(version, current) > 0) packages[entry.Name] = version;
    }
    NextToken = page.NextToken;
  } while (NextToken);
  if (entries === 0) {
    // An empty list is not "nothing installed": it means inventory was never collected, and treating it
    // as unaffected would silently skip a vulnerable node.
    throw new ProviderError(
      'conflict',
      `instance ${instanceId} has no AWS:Application entries in SSM Inventory: enable inventory collection (State Manager association with AWS-GatherSoftwareInventory) and wait for it, or run with packageSource "tags"`,
    );
  }
  return packages;
}

function osFamily(instance: Instance, tags: Map<string, string>): string {
  const tagged = tags.get(READ_TAGS.osFamily);
  if (tagged) return tagged.toLowerCase();
  const platform = `${instance.Platform ?? ''} ${instance.PlatformDetails ?? ''}`.toLowerCase();
  return platform.includes('windows') ? 'windows' : 'linux';
}

export function clusterOf(facts: NodeFacts, targetGroupName: (arn: string) => string | undefined): string {
  return facts.tags.get(READ_TAGS.cluster) || facts.asg?.name || (facts.targetGroupArns[0] && targetGroupName(facts.targetGroupArns[0])) || facts.instanceId;
}

export async function listInventory(
  clients: AwsClients,
  scope: string,
  options: { packageSource: PackageSource; signal?: AbortSignal },
): Promise<InventoryAsset[]> {
  const instances = await listScopedInstances(clients, scope, options.signal);
  if (instances.length === 0) return [];
  const { facts, targetGroups } = await describeFacts(clients, instances, options.signal);
  const loadBalancers = await describeLoadBalancers(
    clients,
    [...targetGroups.values()].flatMap((tg) => tg.LoadBalancerArns ?? []),
    options.signal,
  );
  const LB_KIND: Record<string, string> = { application: 'ALB', network: 'NLB', gateway: 'GWLB' };
  /** Why an untagged instance counts as internet-facing, as a phrase a human can check; undefined if it does not. */
  const exposureVia = (node: NodeFacts): string | undefined => {
    for (const arn of node.targetGroupArns) {
      for (const lbArn of targetGroups.get(arn)?.LoadBalancerArns ?? []) {
        const lb = loadBalancers.get(lbArn);
        if (lb?.scheme === 'internet-facing') return `internet-facing ${LB_KIND[lb.type] ?? lb.type} ${lb.name}`;
      }
    }
    return node.instance.PublicIpAddress ? `public IP ${node.instance.PublicIpAddress}` : undefined;
  };

  const assets: InventoryAsset[] = [];
  for (const node of facts) {
    const { instanceId, instance, tags } = node;
    const tagged = readExposure(instanceId, tags);
    const derivedVia = tagged ? undefined : exposureVia(node);
    const packages =
      options.packageSource === 'tags' ? packagesFromTags(tags) : await packagesFromSsmInventory(clients, instanceId, options.signal);
    const asset: InventoryAsset = {
      id: instanceId,
      cluster: clusterOf(node, (arn) => targetGroups.get(arn)?.TargetGroupName),
      role: tags.get(READ_TAGS.role) || 'unknown',
      exposure: tagged ?? (derivedVia ? 'internet' : 'internal'),
      dataSensitivity: readSensitivity(instanceId, tags) ?? 'none',
      packages,
      osFamily: osFamily(instance, tags),
    };
    const tier = readTier(instanceId, tags);
    if (tier !== undefined) asset.tier = tier;
    const dependsOn = csv(tags.get(READ_TAGS.dependsOn));
    if (dependsOn.length > 0) asset.dependsOn = dependsOn;
    const patchGroup = tags.get(READ_TAGS.patchGroup);
    if (patchGroup) asset.patchGroup = patchGroup;
    const coupledWith = csv(tags.get(READ_TAGS.coupledWith));
    if (coupledWith.length > 0) asset.coupledWith = coupledWith;
    if (tagged === 'internet') asset.exposureVia = `tag ${READ_TAGS.exposure}`;
    else if (derivedVia) asset.exposureVia = derivedVia;
    assets.push(asset);
  }
  return assets;
}
